// Command stored-secrets writes stored-secrets.tsv: v1 Secrets encoded by k8s.io/apimachinery's own protobuf and
// JSON serializers, the ones kube-apiserver's storage codec uses, so the Java reader (certs/StoredSecret) is
// checked against Kubernetes' code rather than against a copy of its field numbers. The certificate and key are
// Ed25519 from fixed seeds with fixed dates, so a re-run reproduces the committed file byte for byte.
//
// Run: cd testdata/stored-secrets && go run . > stored-secrets.tsv (the Java tests only read the .tsv).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

func key(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(label))
	return ed25519.NewKeyFromSeed(seed[:])
}

func certificate(cn string, serial int64, subjectKey, issuerKey ed25519.PrivateKey, issuer *x509.Certificate,
	ca bool, dns []string, notBefore, notAfter time.Time) *x509.Certificate {
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		IsCA:                  ca,
		DNSNames:              dns,
	}
	parent := template
	if issuer != nil {
		parent = issuer
	}
	der, err := x509.CreateCertificate(nil, template, parent, subjectKey.Public(), issuerKey)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(k ed25519.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func secret(namespace, name string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			Namespace:         namespace,
			UID:               "7c1d2a4e-5b6f-4a8b-9c0d-1e2f3a4b5c6d",
			CreationTimestamp: metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)),
			Labels:            map[string]string{"app": name},
			Annotations:       map[string]string{"cert-manager.io/certificate-name": name},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "controller", Operation: metav1.ManagedFieldsOperationApply,
				APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{}}`)}}},
		},
		Data: data,
		Type: typ,
	}
}

func main() {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	pb := protobuf.NewSerializer(scheme, scheme)
	js := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{})

	day := 24 * time.Hour
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	caKey, webKey, kesKey := key("ca"), key("web"), key("kes")
	ca := certificate("vectors-ca", 1, caKey, caKey, nil, true, nil, start, start.Add(3650*day))
	web := certificate("web.example.com", 2, webKey, caKey, ca, false, []string{"web.example.com"}, start, start.Add(90*day))
	kes := certificate("kes-tenant-kes", 3, kesKey, caKey, ca, false, []string{"kes-tenant-kes.minio.svc"}, start, start.Add(365*day))

	cases := []struct {
		name string
		obj  *corev1.Secret
	}{
		{"tls", secret("web", "web-tls", corev1.SecretTypeTLS, map[string][]byte{
			"tls.crt": certPEM(web), "tls.key": keyPEM(webKey), "ca.crt": certPEM(ca)})},
		{"kes", secret("minio", "kes-tenant-kes-tls", corev1.SecretTypeOpaque, map[string][]byte{
			"public.crt": certPEM(kes), "private.key": keyPEM(kesKey)})},
	}
	fmt.Println("# case\tform\tstored_base64 (written by testdata/stored-secrets/main.go with k8s.io/apimachinery v0.37.2)")
	for _, c := range cases {
		for _, form := range []struct {
			name string
			s    runtime.Encoder
		}{{"protobuf", pb}, {"json", js}} {
			var out bytes.Buffer
			if err := form.s.Encode(c.obj, &out); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Printf("%s\t%s\t%s\n", c.name, form.name, base64.StdEncoding.EncodeToString(out.Bytes()))
		}
	}
}
