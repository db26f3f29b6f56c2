import dev.secretsencrypt.cli.Main;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Writes the commented /etc/secrets-encrypt/config.yaml template from the picocli model, so the template
 * names exactly the options the tool has. Run at package time: java -cp secrets-encrypt.jar ConfigTemplate.java
 */
public class ConfigTemplate {
    // a token belongs in a 0600 file, never in a world-readable conffile; help/version are not settings
    private static final Set<String> LEFT_OUT = Set.of("--token", "--help", "--version");

    public static void main(String[] args) {
        CommandLine status = new CommandLine(new Main()).getSubcommands().get("status");
        StringBuilder out = new StringBuilder()
                .append("# /etc/secrets-encrypt/config.yaml: this server node's settings, one per long option that\n")
                .append("# every secrets-encrypt command accepts (see secrets-encrypt(1)).\n")
                .append("#\n")
                .append("# NOT READ YET: loading this file is a planned feature. Until then pass these as options, or in\n")
                .append("# /etc/default/secrets-encrypt for the systemd units. Every line is commented out: the defaults apply.\n")
                .append("# The cluster token is not a setting here: keep it in a mode 600 file (token-file).\n");
        for (OptionSpec o : status.getCommandSpec().mixins().get("options").options()) {
            if (LEFT_OUT.contains(o.longestName())) {
                continue;
            }
            out.append("\n");
            for (String line : o.description()) {
                out.append("# ").append(line.replace("${DEFAULT-VALUE}", String.valueOf(o.defaultValue()))).append('\n');
            }
            String value = o.defaultValue() == null ? "" : " " + o.defaultValue().replaceAll("\\$\\{env:[A-Z_]+:-(.*)}", "$1");
            out.append("#").append(o.longestName().substring(2)).append(':')
                    .append(value.contains("${") ? "" : value).append('\n');
        }
        System.out.print(out);
    }
}
