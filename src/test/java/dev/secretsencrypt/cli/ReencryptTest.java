package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.Envelopes;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.envelope.UnreadableValue;
import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.testing.TestDatastore;
import dev.secretsencrypt.testing.StoredLease;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** reencrypt and verify through the command line, against a real etcd holding Secrets the way kube-apiserver does. */
@Tag("etcd")
@Tag("datastore")
class ReencryptTest {
    @TempDir
    Path tmp;
    final Cli cli = new Cli();
    final TestDatastore etcd = TestDatastore.shared();
    String etcdPrefix;
    String statePrefix;

    @BeforeEach
    void isolate() throws Exception {
        String run = UUID.randomUUID().toString();
        etcdPrefix = "/reg-" + run;
        statePrefix = "/se-" + run + "/";
        Cli.writeToken(tmp.resolve("token"), "token-" + run);
        // every kube-apiserver stores its namespaces; reencrypt refuses a prefix without them
        etcd.client().getKVClient().put(ByteSequence.from(etcdPrefix + "/namespaces/default", StandardCharsets.UTF_8),
                ByteSequence.from("k8s\0namespace", StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
    }

    List<String> common() {
        return List.of("-d", tmp.resolve("node-1").toString(), "--node-name", "node-1", "--endpoints",
                etcd.endpointsCsv(), "--token-file", tmp.resolve("token").toString(), "--state-prefix", statePrefix,
                "--apiserver-hostname", "node-1", "--etcd-prefix", etcdPrefix);
    }

    /** The identity lease node-1's kube-apiserver renews (its host name is node-1). */
    static final String NODE_1 = ApiserverIdentity.ofHostname("node-1").leaseName();

    Cli.Result se(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(common());
        return cli.run(all.toArray(String[]::new));
    }

    static void ok(Cli.Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }

    KV kv() {
        return etcd.client().getKVClient();
    }

    ProviderChain chainOfThisNode() throws Exception {
        EncryptionConfig c = ConfigFiles.read(tmp.resolve("node-1").resolve("encryption-config.json"));
        return ProviderChain.of(c.secretsRule().orElseThrow().providers());
    }

    /** Stores n Secrets as kube-apiserver would with the current config, and returns their plaintexts by key. */
    Map<String, byte[]> seed(int n) throws Exception {
        ProviderChain chain = chainOfThisNode();
        Random random = new Random(n);
        Map<String, byte[]> plain = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String key = etcdPrefix + "/secrets/ns-" + (i % 7) + "/secret-" + i;
            byte[] value = new byte[512 + random.nextInt(3584)];
            random.nextBytes(value);
            System.arraycopy("k8s\0".getBytes(StandardCharsets.ISO_8859_1), 0, value, 0, 4);
            plain.put(key, value);
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            kv().put(ByteSequence.from(k), ByteSequence.from(chain.writer().seal(value, k))).get(10, TimeUnit.SECONDS);
        }
        return plain;
    }

    /** Every stored Secret, by etcd key. */
    Map<String, byte[]> stored() throws Exception {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (KeyValue kv : kv().get(ByteSequence.from(etcdPrefix + "/secrets/", StandardCharsets.UTF_8),
                GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs()) {
            out.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().getBytes());
        }
        return out;
    }

    byte[] storedValue(String key) throws Exception {
        return kv().get(ByteSequence.from(key, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getKvs().get(0)
                .getValue().getBytes();
    }

    void prepareAndRotate() {
        ok(se("sync"));
        ok(se("prepare"));
        ok(se("sync"));
        ok(se("rotate"));
        ok(se("sync"));
    }

    String activePrefix() throws Exception {
        return new String(chainOfThisNode().writer().prefix(), StandardCharsets.UTF_8);
    }

    @Test
    void aFullRotationRewritesEverySecretUnderTheNewKeyAndRetiresTheOldOne() throws Exception {
        ok(se("enable"));
        Map<String, byte[]> plain = seed(300);
        prepareAndRotate();
        String newPrefix = activePrefix();
        Cli.Result before = se("verify");
        // every value readable, none under the active key yet: said in the last line, with its own exit code
        assertEquals(3, before.exitCode(), before.all());
        assertTrue(before.out().contains("aescbc/aescbckey  300"), before.out());
        assertTrue(lastLine(before.out()).matches("300 value\\(s\\) not under the active key aescbc/aescbckey-[0-9TZ:-]+: "
                + "300 under aescbc/aescbckey\\. Run reencrypt to rewrite them under it\\."), before.out());
        assertEquals("", before.err(), "no error line: nothing failed");

        Cli.Result run = se("reencrypt");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.out().matches("(?s)reencrypted 300 values \\(0 unchanged, 0 failed\\) in [0-9.]+ s \\([0-9]+/s\\).*"),
                run.out());
        assertTrue(run.out().contains("retired aescbc/aescbckey"), run.out());

        Map<String, byte[]> after = stored();
        assertEquals(plain.keySet(), after.keySet());
        ok(se("sync"));
        ProviderChain chain = chainOfThisNode();
        for (Map.Entry<String, byte[]> e : after.entrySet()) {
            assertTrue(new String(e.getValue(), StandardCharsets.ISO_8859_1).startsWith(newPrefix), e.getKey());
            assertArrayEquals(plain.get(e.getKey()), chain.open(e.getValue(), e.getKey().getBytes(StandardCharsets.UTF_8))
                    .plaintext(), e.getKey());
        }
        Cli.Result status = se("status");
        assertTrue(status.out().contains("Current Rotation Stage: reencrypt_finished"), status.out());
        assertEquals(1, status.out().lines().filter(l -> l.contains("AES-CBC")).count() - 1, "one key left + one retired: "
                + status.out());
        assertTrue(status.out().contains("Retired keys"), status.out());
        Cli.Result verify = se("verify", "-o", "json");
        assertEquals(0, verify.exitCode(), verify.all());
        assertTrue(verify.out().contains("\"unreadablecount\" : 0"), verify.out());
        assertTrue(verify.out().contains("\"notunderactivekeycount\" : 0"), verify.out());
        Cli.Result text = se("verify");
        assertEquals(0, text.exitCode(), text.all());
        assertTrue(lastLine(text.out()).equals("Every value is under the active key " + activeKeyName() + "."),
                text.out());
        // the next rotation starts from reencrypt_finished
        ok(se("prepare"));
    }

    @Test
    void verifyOnPlaintextUnderAnEnabledConfigSaysSoInItsLastLineAndExits3UntilReencryptRewritesThem()
            throws Exception {
        ok(se("enable"));
        ok(se("sync"));
        for (int i = 0; i < 20; i++) {
            kv().put(ByteSequence.from(etcdPrefix + "/secrets/plain/s-" + i, StandardCharsets.UTF_8),
                    ByteSequence.from("k8s\0plaintext " + i, StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
        }
        seed(5);
        Cli.Result verify = se("verify");
        System.out.println("verify with plaintext under an enabled config:\n" + verify.all());
        assertEquals(3, verify.exitCode(), verify.all());
        // at stage start the command that rewrites them is reencrypt -f --skip (no rotation to finish)
        assertEquals("20 value(s) not under the active key " + activeKeyName() + ": 20 plaintext (identity). Run "
                + "reencrypt -f --skip to rewrite them under it (it retires no key).", lastLine(verify.out()));
        Cli.Result json = se("verify", "-o", "json");
        assertEquals(3, json.exitCode(), json.all());
        assertTrue(json.out().contains("\"identity\" : 20"), json.out());

        ok(se("reencrypt", "-f", "--skip"));
        Cli.Result after = se("verify");
        assertEquals(0, after.exitCode(), after.all());
        assertEquals("Every value is under the active key " + activeKeyName() + ".", lastLine(after.out()));
    }

    static String lastLine(String out) {
        List<String> lines = out.strip().lines().toList();
        return lines.get(lines.size() - 1);
    }

    /** The active key as verify names it: aescbc/<its name>. */
    String activeKeyName() throws Exception {
        return chainOfThisNode().writer().description();
    }

    @Test
    void anUnreadableValueIsListedLeftUntouchedAndNoKeyIsRetired() throws Exception {
        ok(se("enable"));
        seed(20);
        String broken = etcdPrefix + "/secrets/ns-x/broken";
        byte[] garbage = "k8s:enc:aescbc:v1:lost-key:0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        kv().put(ByteSequence.from(broken, StandardCharsets.UTF_8), ByteSequence.from(garbage)).get(10, TimeUnit.SECONDS);
        prepareAndRotate();
        Cli.Result run = se("reencrypt");
        assertEquals(1, run.exitCode(), run.all());
        assertTrue(run.err().contains(broken), run.err());
        assertTrue(run.err().contains("no key was retired"), run.err());
        assertArrayEquals(garbage, stored().get(broken));
        Cli.Result status = se("status");
        assertTrue(status.out().contains("Current Rotation Stage: rotate"), "back where it started: " + status.out());
        assertTrue(status.out().contains("Reencryption: failed on node-1: 1 stored value(s) were left untouched"),
                status.out());
        assertEquals(2, status.out().lines().filter(l -> l.contains("AES-CBC")).count(), status.out());
        Cli.Result verify = se("verify");
        assertEquals(1, verify.exitCode());
        assertTrue(verify.out().contains(broken), verify.out());
        assertTrue(verify.err().startsWith("Error: 1 stored value(s) cannot be read"), verify.err());
    }

    /**
     * aescbc has no authentication: a Secret sealed with another secret under the same key name (a snapshot from before
     * the key was regenerated, another cluster's default aescbckey) "opens" with valid padding about once in 256.
     */
    @Test
    void aValueSealedWithAnotherSecretUnderTheSameKeyNameIsNeverOverwritten() throws Exception {
        ok(se("enable"));
        seed(20);
        Envelope ours = chainOfThisNode().writer();
        Envelope theirs = Envelopes.of(ProviderType.AESCBC, Key.generate("aescbckey", new byte[32]));
        Map<String, byte[]> foreign = new LinkedHashMap<>();
        for (int i = 0; foreign.size() < 3; i++) {
            String key = etcdPrefix + "/secrets/restored/s-" + i;
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            byte[] sealed = theirs.seal(("k8s\0restored " + i).getBytes(StandardCharsets.ISO_8859_1), k);
            try {
                ours.open(sealed, k); // garbage with valid padding: the case that used to be rewritten
                foreign.put(key, sealed);
            } catch (UnreadableValue expected) {
                // most values fail the padding check and were always left alone
            }
        }
        for (Map.Entry<String, byte[]> e : foreign.entrySet()) {
            kv().put(ByteSequence.from(e.getKey(), StandardCharsets.UTF_8), ByteSequence.from(e.getValue()))
                    .get(10, TimeUnit.SECONDS);
        }
        prepareAndRotate();

        Cli.Result verify = se("verify");
        assertEquals(1, verify.exitCode(), verify.all());
        foreign.keySet().forEach(k -> assertTrue(verify.out().contains(k), verify.out()));
        Cli.Result run = se("reencrypt");
        assertEquals(1, run.exitCode(), run.all());
        foreign.keySet().forEach(k -> assertTrue(run.err().contains(k), run.err()));
        assertTrue(run.err().contains("no key was retired"), run.err());
        Map<String, byte[]> after = stored();
        foreign.forEach((k, v) -> assertArrayEquals(v, after.get(k), "left byte-identical: " + k));
        assertEquals(2, se("status").out().lines().filter(l -> l.contains("AES-CBC")).count(), "nothing retired");
    }

    @Test
    void aStaleCopyUnderAnotherPrefixNeverRetiresAKeyTheLiveDataUses() throws Exception {
        ok(se("enable"));
        seed(30); // the live data, under the old key
        kv().put(ByteSequence.from(etcdPrefix + "/leases/kube-system/" + NODE_1, StandardCharsets.UTF_8),
                ByteSequence.from(StoredLease.of(NODE_1, "node-1", Instant.now()))).get(10, TimeUnit.SECONDS);
        String stale = etcdPrefix + "-restored-copy";
        kv().put(ByteSequence.from(stale + "/namespaces/default", StandardCharsets.UTF_8),
                ByteSequence.from("k8s\0namespace", StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
        kv().put(ByteSequence.from(stale + "/leases/kube-system/apiserver-old", StandardCharsets.UTF_8),
                ByteSequence.from(StoredLease.of(NODE_1, "node-1", Instant.now().minus(Duration.ofDays(3)))))
                .get(10, TimeUnit.SECONDS);
        prepareAndRotate();
        Map<String, byte[]> before = stored();

        List<String> args = new ArrayList<>(List.of("reencrypt"));
        args.addAll(common().subList(0, common().size() - 1));
        args.add(stale);
        Cli.Result wrongPrefix = cli.run(args.toArray(String[]::new));
        assertEquals(1, wrongPrefix.exitCode(), wrongPrefix.all());
        assertTrue(wrongPrefix.err().contains("the data under " + stale + " is not the live cluster's"), wrongPrefix.err());
        assertTrue(se("status").out().contains("Current Rotation Stage: rotate"), "refused: nothing changed");
        assertEquals(2, se("status").out().lines().filter(l -> l.contains("AES-CBC")).count(), "no key retired");
        Map<String, byte[]> after = stored();
        before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k));

        Cli.Result live;
        try (AutoCloseable renewing = renewEverySecond(etcdPrefix + "/leases/kube-system/" + NODE_1)) {
            live = se("reencrypt");
        }
        assertEquals(0, live.exitCode(), live.all());
        assertFalse(live.all().contains("cannot be checked"), live.all());
    }

    /** What a running kube-apiserver does with its identity lease (every 10 s; here faster, to keep the test short). */
    AutoCloseable renewEverySecond(String lease) {
        ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor();
        renewer.scheduleAtFixedRate(() -> kv().put(ByteSequence.from(lease, StandardCharsets.UTF_8),
                ByteSequence.from(uncheckedLease(lease))), 0, 1, TimeUnit.SECONDS);
        return renewer::shutdownNow;
    }

    static byte[] uncheckedLease(String lease) {
        try {
            return StoredLease.of(lease.substring(lease.lastIndexOf('/') + 1), "node-1", Instant.now());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aCopyTakenAMinuteAgoIsRefusedBecauseNobodyRenewsItsLeases() throws Exception {
        ok(se("enable"));
        seed(5);
        // recent renew times, as in a copy made moments ago, but no kube-apiserver renews them any more
        kv().put(ByteSequence.from(etcdPrefix + "/leases/kube-system/" + NODE_1, StandardCharsets.UTF_8),
                ByteSequence.from(StoredLease.of(NODE_1, "node-1", Instant.now().minusSeconds(60))))
                .get(10, TimeUnit.SECONDS);
        prepareAndRotate();
        Cli.Result run = se("reencrypt");
        assertEquals(1, run.exitCode(), run.all());
        assertTrue(run.err().contains("none of its kube-apiserver identity leases was renewed in 15 s"), run.err());
        assertTrue(se("status").out().contains("Current Rotation Stage: rotate"), "refused: nothing changed");
    }

    @Test
    void aPrefixWithoutIdentityLeasesSaysItsLivenessCouldNotBeChecked() throws Exception {
        ok(se("enable"));
        seed(5);
        prepareAndRotate();
        Cli.Result run = se("reencrypt");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.err().startsWith("note: no kube-apiserver identity lease under " + etcdPrefix), run.err());
    }

    @Test
    void aForcedReencryptInStagePrepareNeverRetiresThePreparedKeyAndTheRotationGoesOn() throws Exception {
        ok(se("enable"));
        Map<String, byte[]> plain = seed(20);
        ok(se("sync"));
        ok(se("prepare"));
        ok(se("sync"));
        Cli.Result forced = se("reencrypt", "-f");
        assertEquals(0, forced.exitCode(), forced.all());
        assertTrue(forced.out().contains("no old key to retire; stage prepare"), forced.out());
        Cli.Result status = se("status");
        assertTrue(status.out().contains("Current Rotation Stage: prepare"), status.out());
        assertEquals(2, status.out().lines().filter(l -> l.contains("AES-CBC")).count(), "old and prepared key kept");
        ok(se("sync"));
        ok(se("rotate"));
        ok(se("sync"));
        ok(se("reencrypt"));
        ok(se("sync"));
        ProviderChain chain = chainOfThisNode();
        stored().forEach((k, v) -> {
            try {
                assertArrayEquals(plain.get(k), chain.open(v, k.getBytes(StandardCharsets.UTF_8)).plaintext(), k);
            } catch (UnreadableValue e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void aCommandWhoseWorkIsDoneExitsZeroAndSaysSoSoRunbooksCanRetry() throws Exception {
        Cli.Result enable = se("enable");
        ok(enable);
        assertTrue(enable.out().contains("then run reencrypt -f --skip to encrypt the Secrets it stored before"),
                enable.out());
        assertTrue(se("enable").out().startsWith("encryption is already enabled"));
        seed(10);
        prepareAndRotate();
        Cli.Result rotateAgain = se("rotate");
        ok(rotateAgain);
        assertTrue(rotateAgain.out().startsWith("the prepared key already encrypts new writes (stage rotate): nothing "
                + "to do; restart every kube-apiserver (or run sync on every server), then run reencrypt"),
                rotateAgain.out());
        ok(se("reencrypt"));
        ok(se("sync"));
        Cli.Result reencryptAgain = se("reencrypt");
        ok(reencryptAgain);
        assertTrue(reencryptAgain.out().startsWith("re-encryption already finished"), reencryptAgain.out());
        Cli.Result prepareTwice = se("prepare");
        ok(prepareTwice);
        Cli.Result refused = se("prepare");
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("the current stage is prepare: restart every kube-apiserver (or run sync on "
                + "every server), then run rotate"), refused.err());
    }

    @Test
    void aPlaintextThatIsNoStoredObjectIsNeverSealedUnderAescbcWhereItCouldNotBeTrustedAgain() throws Exception {
        ok(se("enable"));
        seed(5);
        String odd = etcdPrefix + "/secrets/odd/not-an-object";
        byte[] bytes = "written by something that is not kube-apiserver".getBytes(StandardCharsets.UTF_8);
        kv().put(ByteSequence.from(odd, StandardCharsets.UTF_8), ByteSequence.from(bytes)).get(10, TimeUnit.SECONDS);
        prepareAndRotate();
        Cli.Result run = se("reencrypt");
        assertEquals(1, run.exitCode(), run.all());
        assertTrue(run.err().contains(odd), run.err());
        assertArrayEquals(bytes, storedValue(odd), "left as it is");
        assertEquals(2, se("status").out().lines().filter(l -> l.contains("AES-CBC")).count(), "nothing retired");
    }

    @Test
    void disableThenReencryptDecryptsEverythingAndEnableEncryptsItAgain() throws Exception {
        ok(se("enable"));
        Map<String, byte[]> plain = seed(50);
        ok(se("disable"));
        ok(se("sync"));
        Cli.Result decrypt = se("reencrypt", "-f", "--skip");
        assertEquals(0, decrypt.exitCode(), decrypt.all());
        Map<String, byte[]> stored = stored();
        for (String key : plain.keySet()) {
            assertArrayEquals(plain.get(key), stored.get(key), "plaintext again: " + key);
        }
        assertTrue(se("status").out().contains("Current Rotation Stage: start"));
        ok(se("enable"));
        ok(se("sync"));
        ok(se("reencrypt", "-f", "--skip"));
        String prefix = activePrefix();
        stored().values().forEach(v -> assertTrue(new String(v, StandardCharsets.ISO_8859_1).startsWith(prefix)));
        assertTrue(se("verify").out().contains("aescbc/aescbckey  50"));
    }

    @Test
    void reencryptIsRefusedBeforeRotateAndUntilEveryServerLoadedTheConfig() throws Exception {
        ok(se("enable"));
        ok(se("sync"));
        Cli.Result early = se("reencrypt");
        assertEquals(1, early.exitCode());
        assertTrue(early.err().contains("reencrypt needs stage rotate"), early.err());
        ok(se("prepare"));
        ok(se("sync"));
        ok(se("rotate"));
        Cli.Result stale = se("reencrypt");
        assertEquals(1, stale.exitCode());
        assertTrue(stale.err().contains("Restart kube-apiserver on node-1"), stale.err());
    }

    @Test
    void asyncOnlyRecordsTheRequestAndALaterRunCarriesItOut() throws Exception {
        ok(se("enable"));
        seed(30);
        prepareAndRotate();
        ok(se("reencrypt", "--async"));
        Cli.Result status = se("status");
        assertTrue(status.out().contains("Current Rotation Stage: reencrypt_request"), status.out());
        assertTrue(status.out().contains("Reencryption: requested by node-1"), status.out());
        ok(se("reencrypt"));
        assertTrue(se("status").out().contains("Current Rotation Stage: reencrypt_finished"));
    }

    @Test
    void aPassLimitedByResourcesNeverRetiresAKeyTheOtherResourcesOfItsRuleStillUse() throws Exception {
        Path file = tmp.resolve("node-1").resolve("encryption-config.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, """
                {"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[
                 {"resources":["secrets","configmaps"],"providers":[
                  {"aescbc":{"keys":[{"name":"old","secret":"Owq7A4JrJpSjrvH8kXkvl4JmOLzvZ6j9BcGRkR8OPQ4="}]}},
                  {"identity":{}}]}]}
                """);
        ok(se("enable"));
        seed(20);
        ProviderChain old = chainOfThisNode();
        String configmap = etcdPrefix + "/configmaps/ns-1/settings";
        byte[] configmapPlain = "k8s\0configmap".getBytes(StandardCharsets.ISO_8859_1);
        byte[] k = configmap.getBytes(StandardCharsets.UTF_8);
        kv().put(ByteSequence.from(k), ByteSequence.from(old.writer().seal(configmapPlain, k))).get(10, TimeUnit.SECONDS);
        prepareAndRotate();

        Cli.Result secretsOnly = se("reencrypt", "--resources", "secrets");
        assertEquals(0, secretsOnly.exitCode(), secretsOnly.all());
        assertTrue(secretsOnly.out().contains("no old key retired: 1 value(s) still under aescbc/old in resources this "
                + "pass did not cover (--resources): run reencrypt without --resources"), secretsOnly.out());
        ok(se("sync"));
        assertArrayEquals(configmapPlain, chainOfThisNode().open(storedValue(configmap), k).plaintext(),
                "the configmap is still readable with the kept key");

        Cli.Result everything = se("reencrypt", "-f");
        assertEquals(0, everything.exitCode(), everything.all());
        assertTrue(everything.out().contains("retired aescbc/old"), everything.out());
    }

    @Test
    void aWrongEtcdPrefixIsRefusedBeforeAnythingChangesAndRetiresNothing() throws Exception {
        ok(se("enable"));
        seed(10);
        prepareAndRotate();
        List<String> args = new ArrayList<>(List.of("reencrypt"));
        args.addAll(common());
        args.set(args.indexOf(etcdPrefix), "/typo");
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("no kube-apiserver data under /typo"), r.err());
        assertTrue(se("status").out().contains("Current Rotation Stage: rotate"));
        assertEquals(2, se("status").out().lines().filter(l -> l.contains("AES-CBC")).count());
    }

    @Test
    void aResourceTypoIsRefusedAndTheStageStaysWhereItWas() throws Exception {
        ok(se("enable"));
        prepareAndRotate();
        Cli.Result r = se("reencrypt", "--resources", "secretz");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("secretz"), r.err());
        Cli.Result status = se("status");
        assertTrue(status.out().contains("Current Rotation Stage: rotate"), status.out());
        assertFalse(status.out().contains("Reencryption:"), status.out());
    }

    @Test
    void skipGivenWhenPickingUpARequestIsHonoured() throws Exception {
        ok(se("enable"));
        seed(10);
        prepareAndRotate();
        ok(se("reencrypt", "--async"));
        Cli.Result r = se("reencrypt", "--skip");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("no key removed (--skip)"), r.out());
        assertEquals(2, se("status").out().lines().filter(l -> l.contains("AES-CBC")).count());
    }

    @Test
    void localModeSaysReencryptNeedsTheDatastore() {
        Cli.Result r = cli.run("reencrypt", "-d", tmp.resolve("local").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("needs the datastore"), r.err());
    }
}
