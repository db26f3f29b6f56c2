package dev.secretsencrypt.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One item of a {@code providers} list as written: Kubernetes decodes an item holding two provider types (or
 * none) and only then rejects it in validation, so the decoded form must be able to hold that.
 */
record ProviderElement(List<Provider> declared) {
    ProviderElement {
        declared = List.copyOf(declared);
    }

    static String field(Provider p) {
        if (p instanceof KeyedProvider keyed) {
            return keyed.type().field();
        }
        return p instanceof KmsProvider ? "kms" : "identity";
    }

    /** The provider Kubernetes validates when several are declared: its switch checks kms, aesgcm, aescbc, secretbox. */
    Provider validated() {
        for (String field : List.of("kms", "aesgcm", "aescbc", "secretbox", "identity")) {
            for (Provider p : declared) {
                if (field(p).equals(field)) {
                    return p;
                }
            }
        }
        return null;
    }

    /** What the element declares, for error messages: {@code {aescbc, identity}}; never key material. */
    String describe() {
        return declared.stream().map(ProviderElement::field).collect(Collectors.joining(", ", "{", "}"));
    }
}
