package dev.secretsencrypt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class MetricsTextTest {

    @Test
    void helpTypeAndSamplesAreReadAsTheFormatDefinesThem() {
        MetricsText page = MetricsText.parse(String.join("\n",
                "# HELP http_requests_total The total number of HTTP requests.\\nSecond line, a \\\\ backslash.",
                "# TYPE http_requests_total counter",
                "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000",
                "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000",
                "",
                "# a plain comment, skipped",
                "#HELP not_help_without_a_blank is still HELP per expfmt",
                "metric_without_timestamp_and_labels 12.47",
                "  \t indented_metric\t-3e-2  ",
                "something_weird{problem=\"division by zero\"} +Inf -3982045",
                ""));
        assertEquals(Optional.of(MetricsText.MetricType.COUNTER), page.type("http_requests_total"));
        assertEquals("The total number of HTTP requests.\nSecond line, a \\ backslash.", page.help().get("http_requests_total"));
        assertEquals(5, page.samples().size());
        MetricsText.Sample first = page.samples().get(0);
        assertEquals("http_requests_total", first.name());
        assertEquals(Map.of("method", "post", "code", "200"), first.labels());
        assertEquals(List.of("method", "code"), List.copyOf(first.labels().keySet()), "labels keep the page's order");
        assertEquals(1027.0, first.value());
        assertEquals(Optional.of(1395066363000L), first.timestampMillis());
        assertEquals(3.0, page.samples("http_requests_total", Map.of("code", "400")).get(0).value());
        assertEquals(12.47, page.samples("metric_without_timestamp_and_labels").get(0).value());
        assertEquals(Optional.empty(), page.samples("metric_without_timestamp_and_labels").get(0).timestampMillis());
        assertEquals(-0.03, page.samples("indented_metric").get(0).value());
        MetricsText.Sample weird = page.samples("something_weird").get(0);
        assertEquals(Double.POSITIVE_INFINITY, weird.value());
        assertEquals(Optional.of(-3982045L), weird.timestampMillis());
    }

    @Test
    void labelValuesUnescapeBackslashQuoteAndNewlineAndMayEndWithAComma() {
        MetricsText page = MetricsText.parse(
                "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\",} 1.458255915e9\n"
                        + "braces_in_values{a=\"}{\", b = \"x,y=z\" ,} 0\n"
                        + "empty_set{} 1\n");
        MetricsText.Sample s = page.samples().get(0);
        assertEquals("C:\\DIR\\FILE.TXT", s.labels().get("path"));
        assertEquals("Cannot find file:\n\"FILE.TXT\"", s.labels().get("error"));
        assertEquals(1.458255915e9, s.value());
        assertEquals(Map.of("a", "}{", "b", "x,y=z"), page.samples("braces_in_values").get(0).labels());
        assertTrue(page.samples("empty_set").get(0).labels().isEmpty());
    }

    @Test
    void everyValueFormGoWritesIsRead() {
        MetricsText page = MetricsText.parse(String.join("\n",
                "a NaN", "b +Inf", "c -Inf", "d 1e+09", "e 1.7960343335886095e+09", "f -0", "g .5", "h 5.", "i Inf",
                "j 2E-3", "k nan"));
        List<Double> values = page.samples().stream().map(MetricsText.Sample::value).toList();
        assertTrue(Double.isNaN(values.get(0)));
        assertEquals(List.of(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e9, 1.7960343335886095e9, -0.0, 0.5, 5.0,
                Double.POSITIVE_INFINITY, 0.002), values.subList(1, 10));
        assertTrue(Double.isNaN(values.get(10)));
    }

    @Test
    void histogramLinesAreSamplesOfTheirOwnNamesUnderTheFamilysType() {
        MetricsText page = MetricsText.parse(String.join("\n",
                "# TYPE rpc_duration_seconds histogram",
                "rpc_duration_seconds_bucket{le=\"0.05\"} 24054",
                "rpc_duration_seconds_bucket{le=\"+Inf\"} 144320",
                "rpc_duration_seconds_sum 53423",
                "rpc_duration_seconds_count 144320"));
        assertEquals(Optional.of(MetricsText.MetricType.HISTOGRAM), page.type("rpc_duration_seconds"));
        assertEquals(List.of("0.05", "+Inf"), page.samples("rpc_duration_seconds_bucket").stream()
                .map(s -> s.labels().get("le")).toList());
        assertEquals(144320.0, page.samples("rpc_duration_seconds_count").get(0).value());
    }

    @Test
    void aMalformedLineIsAnErrorNamingItsLineAndColumn() {
        String[][] cases = {
                {"ok 1\nbad{a=\"x\" 1", "line 2", "expected ',' or '}'"},
                {"m{a=\"x\\t\"} 1", "line 1", "is not an escape"},
                {"m{a=\"unterminated} 1", "line 1", "not closed"},
                {"m{1a=\"x\"} 1", "line 1", "expected a label name"},
                {"m{a=x} 1", "line 1", "expected '\"'"},
                {"m{a=\"x\",a=\"y\"} 1", "line 1", "appears twice"},
                {"m 1 2 3", "line 1", "unexpected text"},
                {"m one", "line 1", "'one' is not a number"},
                {"m 0x1p3", "line 1", "is not a number"},
                {"m 1d", "line 1", "is not a number"},
                {"m", "line 1", "no value"},
                {"m 1 1.5", "line 1", "timestamp"},
                {"9m 1", "line 1", "expected a metric name"},
                {"m-x 1", "line 1", "expected a blank"},
                {"\n\n# TYPE m gauges", "line 3", "is not a metric type"},
                {"# TYPE m gauge\n# TYPE m counter", "line 2", "a second TYPE line"},
                {"m 1\n# TYPE m gauge", "line 2", "after its samples"},
        };
        for (String[] c : cases) {
            MetricsText.Malformed e = assertThrows(MetricsText.Malformed.class, () -> MetricsText.parse(c[0]), c[0]);
            assertTrue(e.getMessage().startsWith(c[1] + ","), c[0] + " -> " + e.getMessage());
            assertTrue(e.getMessage().contains(c[2]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void anErrorOnALongLineQuotesOnlyAShortStretchOfIt() {
        String secretish = "x".repeat(5000);
        String line = "m{a=\"" + secretish + "\",b=oops} 1";
        MetricsText.Malformed e = assertThrows(MetricsText.Malformed.class, () -> MetricsText.parse("ok 1\n" + line));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().length() < 200, e.getMessage());
        assertFalse(e.getMessage().contains("x".repeat(60)), e.getMessage());
        assertTrue(e.getMessage().contains("b=oops"), "the stretch shown is where the fault is: " + e.getMessage());
    }

    @Test
    void aPageWithCarriageReturnsReadsTheSame() {
        MetricsText page = MetricsText.parse("# TYPE m gauge\r\nm{a=\"b\"} 2\r\n");
        assertEquals(2.0, page.samples("m").get(0).value());
    }

    @Test
    void aRealKubeApiserverPageIsReadWhole() throws Exception {
        java.nio.file.Path real = java.nio.file.Path.of("testdata", "apiserver-metrics",
                "kube-apiserver-v1.37.2-after-a-failed-reload.txt");
        String text = java.nio.file.Files.readString(real);
        MetricsText page = MetricsText.parse(text);
        long sampleLines = text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
        assertEquals(sampleLines, page.samples().size(), "every sample line is a sample");
        assertEquals(text.lines().filter(l -> l.startsWith("# TYPE ")).count(), page.types().size());
        assertEquals(Optional.of(MetricsText.MetricType.SUMMARY), page.type("go_gc_duration_seconds"));
        assertEquals(Optional.of(MetricsText.MetricType.HISTOGRAM), page.type("apiserver_client_certificate_expiration_seconds"));
        assertEquals(1.79603434547e+09, page.samples("process_start_time_seconds").get(0).value());
        assertEquals(6.0, page.samples("apiserver_encryption_config_controller_automatic_reloads_total",
                Map.of("status", "failure")).get(0).value());
        MetricsText.Sample build = page.samples("kubernetes_build_info").get(0);
        assertEquals(Optional.of("v1.37.2"), build.label("git_version"));
        assertEquals(Optional.of("$Format:%H$"), build.label("git_commit"));
        assertTrue(page.samples("go_gc_duration_seconds").stream().anyMatch(s -> s.label("quantile").isPresent()));
    }
}
