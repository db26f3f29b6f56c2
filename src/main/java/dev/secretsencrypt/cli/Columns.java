package dev.secretsencrypt.cli;

import java.util.ArrayList;
import java.util.List;

/** Aligns rows like Go's text/tabwriter with padding 2, as K3s prints its status table. */
final class Columns {
    private static final int PADDING = 2;
    private final List<List<String>> rows = new ArrayList<>();

    Columns row(String... cells) {
        rows.add(List.of(cells));
        return this;
    }

    /** Every cell but a row's last is padded to its column's widest cell plus two spaces; the last is not. */
    String render() {
        List<Integer> widths = new ArrayList<>();
        for (List<String> row : rows) {
            for (int i = 0; i < row.size() - 1; i++) {
                if (widths.size() <= i) {
                    widths.add(0);
                }
                widths.set(i, Math.max(widths.get(i), row.get(i).length()));
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i);
                line.append(cell);
                if (i < row.size() - 1) {
                    line.append(" ".repeat(widths.get(i) + PADDING - cell.length()));
                }
            }
            out.append(line.toString().stripTrailing()).append('\n'); // empty last cells leave no trailing blanks
        }
        return out.toString();
    }
}
