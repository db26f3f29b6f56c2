package dev.secretsencrypt.store;

import dev.secretsencrypt.config.OsReason;
import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.failure.ChangedConcurrently;
import dev.secretsencrypt.failure.StateUnavailable;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.secretsencrypt.config.AtomicFiles;
import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.InvalidConfig;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.Stage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Single-server mode: the config is the data dir's {@code encryption-config.json} itself and the stage lives
 * beside it in {@code encryption-state.json} (no key material there). A file lock makes replace a CAS.
 */
public final class LocalState implements ClusterState, ServerReports {
    public static final String CONFIG_FILE = "encryption-config.json";
    public static final String STATE_FILE = "encryption-state.json";
    private static final String LOCK_FILE = ".secrets-encrypt.lock";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private final Path dataDir;
    private final String nodeName;

    public LocalState(Path dataDir, String nodeName) {
        this.dataDir = dataDir;
        this.nodeName = nodeName;
    }

    /** What {@code encryption-state.json} holds: stage and revision, never a key. */
    record StageRecord(long revision, String stage, String preparedType, String preparedName) {
    }

    public Path configFile() {
        return dataDir.resolve(CONFIG_FILE);
    }

    private Path stateFile() {
        return dataDir.resolve(STATE_FILE);
    }

    @Override
    public Optional<Snapshot> read() {
        Optional<StageRecord> record = readRecord();
        if (record.isEmpty()) {
            return Optional.empty();
        }
        if (!Files.exists(configFile())) {
            throw new StateUnavailable(stateFile() + " records stage " + record.get().stage() + " but " + configFile()
                    + " is missing: restore it from a backup (without it kube-apiserver cannot read encrypted data)");
        }
        EncryptionConfig config = readConfig();
        StageRecord r = record.get();
        Stage stage = Stage.parse(r.stage()).orElseThrow(() -> damaged("unknown stage \"" + r.stage() + "\""));
        Optional<KeyRef> prepared = Optional.ofNullable(r.preparedName()).map(name -> new KeyRef(
                ProviderType.byField(r.preparedType()).orElseThrow(() -> damaged("unknown provider type")), name));
        return Optional.of(new Snapshot(r.revision(), new RotationState(stage, config, prepared), List.of()));
    }

    @Override
    public Snapshot replace(long expectedRevision, Snapshot next) {
        try {
            if (Files.notExists(dataDir)) {
                AtomicFiles.ensurePrivateDir(dataDir);
            }
            try (FileChannel channel = FileChannel.open(dataDir.resolve(LOCK_FILE), Set.of(StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                 FileLock ignored = channel.lock()) {
                long stored = readRecord().map(StageRecord::revision).orElse(0L);
                if (stored != expectedRevision) {
                    throw new ChangedConcurrently(dataDir.toString());
                }
                RotationState s = next.rotation();
                // config first: a crash between the two writes leaves the old stage with a file every reader accepts
                ConfigFiles.write(configFile(), s.config());
                StageRecord record = new StageRecord(stored + 1, s.stage().text(),
                        s.prepared().map(k -> k.type().field()).orElse(null), s.prepared().map(KeyRef::name).orElse(null));
                AtomicFiles.write(stateFile(), JSON.writeValueAsBytes(record));
                return next.atRevision(stored + 1);
            }
        } catch (InvalidConfig e) {
            throw new StateUnavailable("refusing to write an invalid config: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new StateUnavailable("cannot write the state in " + dataDir + ": " + OsReason.of(e), e);
        }
    }

    /** In single-server mode the file on disk is this server's report: nothing to store. */
    @Override
    public void report(NodeReport report) {
    }

    @Override
    public List<NodeReport> reports() {
        if (!Files.exists(configFile())) {
            return List.of();
        }
        Stage stage = readRecord().flatMap(r -> Stage.parse(r.stage())).orElse(Stage.START);
        try {
            return List.of(new NodeReport(nodeName, stage, ConfigHash.ofFile(BoundedFiles.read(configFile(), BoundedFiles.CONFIG_LIMIT))));
        } catch (IOException e) {
            throw new StateUnavailable("cannot read " + configFile() + ": " + OsReason.of(e), e);
        }
    }

    @Override
    public String describe() {
        return dataDir.toString();
    }

    private EncryptionConfig readConfig() {
        try {
            return ConfigFiles.read(configFile());
        } catch (InvalidConfig e) {
            throw new StateUnavailable(e.getMessage() + ": fix the file or restore it from a backup", e);
        }
    }

    private Optional<StageRecord> readRecord() {
        if (!Files.exists(stateFile())) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(BoundedFiles.read(stateFile(), BoundedFiles.SMALL_LIMIT), StageRecord.class));
        } catch (IOException e) {
            throw damaged(e.getMessage());
        }
    }

    private StateUnavailable damaged(String detail) {
        return new StateUnavailable(stateFile() + " is damaged (" + detail + "): restore it from a backup, or delete "
                + "it and run enable to adopt " + configFile() + " again");
    }
}
