package dev.secretsencrypt.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * kube-apiserver's ValidateEncryptionConfiguration (k8s.io/apiserver validation_encryption.go, reload=false),
 * rule for rule and in the same order, with its wording. KMS defaults (apiVersion v1, timeout 3s, cachesize 1000
 * for v1) are applied here only to judge the values; the config itself keeps what was written.
 */
final class ConfigValidation {
    private static final String MORE_THAN_ONE = "more than one provider specified in a single element, should split into different list elements";
    private static final String NO_PROVIDER = "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity";
    private static final String EVENTS_GROUP = "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file";
    private static final String EXTENSIONS_GROUP = "'extensions' group has been removed and cannot be used for encryption";
    private static final String STAR_RESOURCE = "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources";
    private static final String OVERLAP = "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked";
    private static final String NON_REST = "resources which do not have REST API/s cannot be encrypted";
    private static final String CAPITALS = "resource name should not contain capital letters";
    private static final String ACROSS_GROUPS = "encrypting the same resource across groups is not supported";
    private static final String DUPLICATE_RESOURCE = "the same resource cannot be specified multiple times";
    private static final Set<String> NON_REST_RESOURCES = Set.of("apiserveripinfo", "serviceipallocations", "servicenodeportallocations");

    private final List<FieldError> errors = new ArrayList<>();
    // Every KMS name seen so far, v1 included: a later v2 provider must not reuse any of them.
    private final Set<String> kmsNames = new HashSet<>();

    private ConfigValidation() {
    }

    static List<FieldError> errors(ConfigDraft draft) {
        ConfigValidation v = new ConfigValidation();
        v.validate(draft.rules());
        return v.errors;
    }

    /** apimachinery's aggregate: one error as is, several as {@code [e1, e2]}, identical messages once. */
    static String aggregate(List<String> messages) {
        return messages.size() == 1 ? messages.get(0) : "[" + String.join(", ", messages) + "]";
    }

    private void validate(List<ConfigDraft.Rule> rules) {
        if (rules.isEmpty()) {
            errors.add(FieldError.required("resources", "at least one resources is required"));
            return;
        }
        for (int i = 0; i < rules.size(); i++) {
            ConfigDraft.Rule rule = rules.get(i);
            String r = "resources[" + i + "].resources";
            String p = "resources[" + i + "].providers";
            if (rule.resources().isEmpty()) {
                errors.add(FieldError.required(r, "at least one " + r + " is required"));
            }
            resourceOverlap(rule.resources(), r);
            resourceNames(rule.resources(), r);
            if (rule.providers().isEmpty()) {
                errors.add(FieldError.required(p, "at least one " + p + " is required"));
            }
            for (int j = 0; j < rule.providers().size(); j++) {
                provider(rule.providers().get(j), p + "[" + j + "]");
            }
        }
    }

    private void provider(ProviderElement element, String path) {
        int found = element.declared().size();
        if (found == 0) {
            errors.add(FieldError.invalidRendered(path, element.describe(), NO_PROVIDER));
        } else if (found > 1) {
            errors.add(FieldError.invalidRendered(path, element.describe(), MORE_THAN_ONE));
        }
        Provider validated = element.validated();
        if (validated instanceof KmsProvider kms) {
            kms(kms, path + ".kms");
            kmsNames.add(Objects.requireNonNullElse(kms.name(), ""));
        } else if (validated instanceof KeyedProvider keyed) {
            keys(keyed, path + "." + keyed.type().field() + ".keys");
        }
    }

    private void keys(KeyedProvider provider, String path) {
        if (provider.keys().isEmpty()) {
            errors.add(FieldError.required(path, "at least one keys is required"));
            return;
        }
        List<Integer> lengths = provider.type().keyLengths();
        for (int i = 0; i < provider.keys().size(); i++) {
            Key key = provider.keys().get(i);
            String at = path + "[" + i + "]";
            if (key.name() == null || key.name().isEmpty()) {
                errors.add(FieldError.required(at + ".name", "name is a mandatory field for a key"));
            }
            if (key.secret() == null || key.secret().isEmpty()) {
                errors.add(FieldError.required(at + ".secret", "secret is a mandatory field for a key"));
                continue;
            }
            // The value is always shown as "REDACTED": the secret must not reach an error message.
            byte[] secret = Key.decodeStdBase64(key.secret()).orElse(null);
            if (secret == null) {
                errors.add(FieldError.invalid(at + ".secret", "REDACTED", "secrets must be base64 encoded"));
            } else if (!lengths.contains(secret.length)) {
                errors.add(FieldError.invalid(at + ".secret", "REDACTED", "secret is not of the expected length, got "
                        + secret.length + ", expected one of " + GoText.intSlice(lengths)));
            }
        }
    }

    private void kms(KmsProvider kms, String path) {
        String apiVersion = kms.effectiveApiVersion();
        String name = Objects.requireNonNullElse(kms.name(), "");
        boolean v1 = apiVersion.equals("v1");

        if (name.isEmpty()) {
            errors.add(FieldError.required(path + ".name", "name is a mandatory field for a provider"));
        }
        if (!v1 && name.contains(":")) {
            errors.add(FieldError.invalid(path + ".name", name, "invalid KMS provider name " + name + ", must not contain ':'"));
        }
        if (!v1 && kmsNames.contains(name)) {
            errors.add(FieldError.invalid(path + ".name", name, "duplicate KMS provider name " + name + ", names must be unique"));
        }

        timeout(kms.timeout(), path + ".timeout");
        endpoint(Objects.requireNonNullElse(kms.endpoint(), ""), path + ".endpoint");

        Integer cachesize = kms.cachesize() == null && v1 ? Integer.valueOf(1000) : kms.cachesize();
        if (!v1 && cachesize != null) {
            errors.add(FieldError.invalidRendered(path + ".cachesize", cachesize.toString(), "cachesize is not supported in v2"));
        }
        if (v1 && cachesize == 0) {
            errors.add(FieldError.invalidRendered(path + ".cachesize", "0", "cachesize should be a positive value, or negative to disable"));
        }
        if (!v1 && !apiVersion.equals("v2")) {
            // The doubled "apiVersion apiVersion" is Kubernetes' own wording.
            errors.add(FieldError.invalid(path + ".apiVersion", apiVersion,
                    "unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported"));
        }
    }

    private void timeout(String timeout, String path) {
        GoDuration duration;
        try {
            duration = timeout == null ? GoDuration.KMS_DEFAULT_TIMEOUT : GoDuration.parse(timeout);
        } catch (GoDuration.Invalid e) {
            // Only a config built in code gets here: a file with such a timeout fails to decode.
            errors.add(FieldError.invalid(path, timeout, e.getMessage()));
            return;
        }
        if (!duration.isPositive()) {
            // Go prints a *metav1.Duration bad value through its String method: unquoted, e.g. -15s.
            errors.add(FieldError.invalidRendered(path, duration.toString(), "timeout should be a positive value"));
        }
    }

    private void endpoint(String endpoint, String path) {
        if (endpoint.isEmpty()) {
            errors.add(FieldError.invalid(path, "", "endpoint is a mandatory field for a kms"));
            return;
        }
        KmsEndpoint parsed = KmsEndpoint.parse(endpoint);
        if (!parsed.valid()) {
            errors.add(FieldError.invalid(path, endpoint, "invalid endpoint for kms provider, error: " + parsed.parseError()));
        } else if (!parsed.scheme().equals("unix")) {
            errors.add(FieldError.invalid(path, endpoint,
                    "unsupported scheme " + GoText.quote(parsed.scheme()) + " for KMS provider, only unix is supported"));
        }
    }

    private void resourceOverlap(List<String> resources, String path) {
        if (resources.size() < 2) {
            return;
        }
        List<GroupResource> parsed = resources.stream().map(GroupResource::parse).toList();
        boolean overlap = false;
        boolean duplicate = false;
        // Kubernetes' exact loop: a pair counts once as a duplicate before it can count as an overlap.
        for (int i = 0; i < parsed.size(); i++) {
            for (int j = 0; j < parsed.size(); j++) {
                if (i == j) {
                    continue;
                }
                GroupResource r1 = parsed.get(i);
                GroupResource r2 = parsed.get(j);
                if (r1.equals(r2) && !duplicate) {
                    duplicate = true;
                    continue;
                }
                if (overlap) {
                    continue;
                }
                if (r1.group().equals("*") && r1.resource().equals("*")) {
                    overlap = true;
                    continue;
                }
                if (!r1.group().equals(r2.group())) {
                    continue;
                }
                if (r1.resource().equals("*") || r2.resource().equals("*")) {
                    overlap = true;
                }
            }
        }
        if (duplicate) {
            errors.add(FieldError.invalidRendered(path, GoText.stringSliceGoSyntax(resources), DUPLICATE_RESOURCE));
        }
        if (overlap) {
            errors.add(FieldError.invalidRendered(path, GoText.stringSliceGoSyntax(resources), OVERLAP));
        }
    }

    private void resourceNames(List<String> resources, String path) {
        for (int j = 0; j < resources.size(); j++) {
            String res = resources.get(j);
            String detail = resourceNameProblem(res);
            if (detail != null) {
                errors.add(FieldError.invalid(path + "[" + j + "]", res, detail));
            }
        }
    }

    private static String resourceNameProblem(String res) {
        if (!res.toLowerCase(java.util.Locale.ROOT).equals(res)) {
            return CAPITALS;
        }
        if (res.equals("*")) {
            return STAR_RESOURCE;
        }
        if (NON_REST_RESOURCES.contains(res)) {
            return NON_REST;
        }
        GroupResource gr = GroupResource.parse(res);
        if (gr.group().equals("events.k8s.io")) {
            return EVENTS_GROUP;
        }
        if (gr.group().equals("extensions")) {
            return EXTENSIONS_GROUP;
        }
        if (gr.group().equals("*") && !gr.resource().equals("*")) {
            return ACROSS_GROUPS;
        }
        return null;
    }

    /** schema.ParseGroupResource: {@code deployments.apps} is resource {@code deployments} in group {@code apps}. */
    private record GroupResource(String group, String resource) {
        static GroupResource parse(String s) {
            int dot = s.indexOf('.');
            return dot >= 0 ? new GroupResource(s.substring(dot + 1), s.substring(0, dot)) : new GroupResource("", s);
        }
    }
}
