package dev.secretsencrypt.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * The document tree of a config file, JSON or YAML whatever its name: like kube-apiserver, a file whose first
 * non-blank character is {@code {} is JSON, anything else YAML (of which only the first document counts).
 * Repeated keys are recorded as strict-decoding errors (the last value wins, as in Go).
 */
record ConfigDocument(JsonNode root, List<String> duplicateFields) {
    private static final JsonFactory JSON = JsonFactory.builder().build();
    // A plain empty value ("keys:") is null in YAML, as in Go; a quoted '' stays an empty string.
    private static final YAMLFactory YAML = YAMLFactory.builder().enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);
    // A parser message can quote a token of the file, which may be a secret: keep one character at most.
    private static final Pattern QUOTED_TOKEN = Pattern.compile("'([^']{2,})'");

    static ConfigDocument read(byte[] bytes) throws DecodeFailure {
        boolean json = startsLikeJson(bytes);
        List<String> duplicates = new ArrayList<>();
        try (JsonParser parser = (json ? JSON : YAML).createParser(bytes)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new ConfigDocument(NODES.nullNode(), duplicates); // only comments or "---"
            }
            JsonNode root = value(parser, first, "", duplicates);
            if (json && parser.nextToken() != null) {
                throw new DecodeFailure("couldn't get version/kind; json parse error: invalid character after top-level value"
                        + at(parser.currentLocation()));
            }
            return new ConfigDocument(root, duplicates);
        } catch (JsonProcessingException e) {
            throw json ? jsonSyntax(e) : yamlSyntax(e);
        } catch (IOException e) {
            throw new DecodeFailure("could not read the document: " + e.getClass().getSimpleName());
        }
    }

    private static JsonNode value(JsonParser p, JsonToken token, String path, List<String> duplicates) throws IOException, DecodeFailure {
        if (p instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
            // Jackson would hand us the alias name as if it were the value; refuse rather than misread.
            throw new DecodeFailure("error converting YAML to JSON: yaml: YAML aliases (*name) are not supported here, write the value out"
                    + at(p.currentLocation()));
        }
        switch (token) {
            case START_OBJECT -> {
                ObjectNode node = NODES.objectNode();
                for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                    String name = p.currentName();
                    String child = path.isEmpty() ? name : path + "." + name;
                    JsonNode v = value(p, p.nextToken(), child, duplicates);
                    if (node.has(name)) {
                        duplicates.add(child);
                    }
                    node.set(name, v);
                }
                return node;
            }
            case START_ARRAY -> {
                ArrayNode node = NODES.arrayNode();
                int i = 0;
                for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                    node.add(value(p, t, path + "[" + i++ + "]", duplicates));
                }
                return node;
            }
            case VALUE_STRING -> {
                return NODES.textNode(p.getText());
            }
            case VALUE_NUMBER_INT -> {
                return NODES.numberNode(p.getBigIntegerValue());
            }
            case VALUE_NUMBER_FLOAT -> {
                return NODES.numberNode(p.getDecimalValue());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return NODES.booleanNode(token == JsonToken.VALUE_TRUE);
            }
            case VALUE_NULL -> {
                return NODES.nullNode();
            }
            default -> throw new DecodeFailure("error converting YAML to JSON: unsupported value (" + token + ")"
                    + at(p.currentLocation()));
        }
    }

    private static boolean startsLikeJson(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return b == '{';
            }
        }
        return false;
    }

    private static DecodeFailure jsonSyntax(JsonProcessingException e) {
        return new DecodeFailure("couldn't get version/kind; json parse error: " + scrub(e.getOriginalMessage())
                + at(e.getLocation()));
    }

    private static DecodeFailure yamlSyntax(JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
                return new DecodeFailure("error converting YAML to JSON: yaml: line " + (marked.getProblemMark().getLine() + 1)
                        + ": " + scrub(marked.getProblem()));
            }
        }
        return new DecodeFailure("error converting YAML to JSON: " + scrub(e.getOriginalMessage()) + at(e.getLocation()));
    }

    private static String scrub(String message) {
        if (message == null) {
            return "malformed document";
        }
        Matcher m = QUOTED_TOKEN.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String token = m.group(1);
            boolean keyword = token.equals("null") || token.equals("true") || token.equals("false") || token.startsWith("<");
            m.appendReplacement(out, Matcher.quoteReplacement(keyword ? m.group() : "'...'"));
        }
        m.appendTail(out);
        return out.toString().lines().findFirst().orElse("").strip();
    }

    private static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 1 ? ""
                : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }
}
