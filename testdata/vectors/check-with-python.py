#!/usr/bin/python3
"""Checks stored values against implementations independent of the Java code.

Usage: check-with-python.py FILE.tsv

FILE has the columns of vectors.tsv (case, provider, key_name, key_base64, etcd_key, plaintext_base64,
stored_base64); the Java test writes one with values its envelopes sealed. Every value must be in
kube-apiserver's exact layout and decrypt to its plaintext: aescbc with `openssl enc -d` (which also
checks the PKCS#7 padding), aesgcm with python3-cryptography (AAD = the etcd key), secretbox with PyNaCl.
Needs Debian's /usr/bin/python3 with python3-cryptography and python3-nacl. Prints only case names,
never key or value bytes. Exit status 0 when every value checks out, 1 otherwise.
"""
import base64
import subprocess
import sys
from collections import Counter

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

# provider -> length of the random IV or nonce that starts the body (after the prefix)
NONCE = {"aescbc": 16, "aesgcm": 12, "secretbox": 24}


def expected_length(provider, plaintext_length):
    if provider == "aescbc":
        return 16 + (plaintext_length // 16 + 1) * 16  # IV + PKCS#7 always adds 1..16 bytes
    if provider == "aesgcm":
        return 12 + plaintext_length + 16  # nonce + ciphertext + tag
    return 24 + 16 + plaintext_length  # nonce + tag + ciphertext


def decrypt(provider, key, etcd_key, body):
    nonce, rest = body[: NONCE[provider]], body[NONCE[provider]:]
    if provider == "aescbc":
        cipher = "-aes-%d-cbc" % (len(key) * 8)
        run = subprocess.run(["openssl", "enc", "-d", cipher, "-K", key.hex(), "-iv", nonce.hex()],
                             input=rest, capture_output=True)
        if run.returncode != 0:
            raise ValueError("openssl could not decrypt it (bad padding?)")
        return run.stdout
    if provider == "aesgcm":
        return AESGCM(key).decrypt(nonce, rest, etcd_key.encode())
    return SecretBox(key).decrypt(rest, nonce)


def check(row):
    case, provider, key_name, key_b64, etcd_key, plaintext_b64, stored_b64 = row
    if provider not in NONCE:
        return "unknown provider " + provider
    key, plaintext, stored = (base64.b64decode(x) for x in (key_b64, plaintext_b64, stored_b64))
    prefix = ("k8s:enc:%s:v1:%s:" % (provider, key_name)).encode()
    if not stored.startswith(prefix):
        return "does not start with " + prefix.decode()
    body = stored[len(prefix):]
    if len(body) != expected_length(provider, len(plaintext)):
        return "body is %d bytes, expected %d" % (len(body), expected_length(provider, len(plaintext)))
    try:
        opened = decrypt(provider, key, etcd_key, body)
    except (InvalidTag, CryptoError, ValueError) as e:
        return "does not decrypt: " + (str(e) or type(e).__name__)
    if opened != plaintext:
        return "decrypts to a different plaintext"
    return None


def nonce_of(row):
    provider, key_name, stored = row[1], row[2], base64.b64decode(row[6])
    start = len(("k8s:enc:%s:v1:%s:" % (provider, key_name)).encode())
    return provider, stored[start:start + NONCE[provider]]


def main(path):
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    rows = [r for r in rows if r[0] != "case"]
    failures = [(r[0], problem) for r in rows for problem in [check(r)] if problem]
    # Random IVs and nonces: a repeat would mean the generator is broken (fatal for GCM).
    nonces = Counter(nonce_of(r) for r in rows if r[1] in NONCE)
    failures += [("-", "%s IV/nonce used %d times" % (p, n)) for (p, _), n in nonces.items() if n > 1]
    for case, problem in failures:
        print("FAIL %s: %s" % (case, problem))
    counts = Counter(r[1] for r in rows)
    print("checked %d values (%s), %d failed" % (len(rows), ", ".join("%s %d" % kv for kv in sorted(counts.items())),
                                                 len(failures)))
    return 1 if failures or not rows else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
