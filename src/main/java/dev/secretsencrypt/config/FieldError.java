package dev.secretsencrypt.config;

/**
 * One validation error, printed as apimachinery's field.Error: {@code <path>: <Type>: <value>: <detail>}.
 * {@code value} is already rendered the way Go's fmt would print it; Required errors carry none.
 */
record FieldError(String path, String type, String value, String detail) {
    static FieldError required(String path, String detail) {
        return new FieldError(path, "Required value", null, detail);
    }

    /** A string bad value, quoted as Go's {@code %q}. */
    static FieldError invalid(String path, String value, String detail) {
        return new FieldError(path, "Invalid value", GoText.quote(value == null ? "" : value), detail);
    }

    /** A bad value already rendered (numbers, durations, slices, structs). */
    static FieldError invalidRendered(String path, String rendered, String detail) {
        return new FieldError(path, "Invalid value", rendered, detail);
    }

    @Override
    public String toString() {
        String body = value == null ? type : type + ": " + value;
        return path + ": " + (detail.isEmpty() ? body : body + ": " + detail);
    }
}
