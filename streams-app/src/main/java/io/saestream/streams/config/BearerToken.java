package io.saestream.streams.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The secret that HTTP clients present as {@code Authorization: Bearer <token>}. Never printed:
 * {@link #toString()} hides it. Immutable and thread-safe.
 */
public final class BearerToken {

  /** Shortest token accepted, so that a token cannot be guessed by trying. */
  public static final int MIN_LENGTH = 16;

  private final byte[] token;

  private BearerToken(byte[] token) {
    this.token = token;
  }

  /** The token {@code text}, surrounding whitespace (a trailing newline) removed. */
  public static BearerToken fromText(String text) {
    Objects.requireNonNull(text, "text");
    String trimmed = text.strip();
    if (trimmed.length() < MIN_LENGTH) {
      throw new IllegalArgumentException(
          "the bearer token must be at least "
              + MIN_LENGTH
              + " characters, was "
              + trimmed.length());
    }
    for (int i = 0; i < trimmed.length(); i++) {
      char c = trimmed.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        throw new IllegalArgumentException(
            "the bearer token must be printable ASCII without spaces (character " + i + ")");
      }
    }
    return new BearerToken(trimmed.getBytes(StandardCharsets.US_ASCII));
  }

  /** The token in {@code file} (UTF-8, surrounding whitespace removed). */
  public static BearerToken fromFile(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read bearer token file " + file, e);
    }
    try {
      return fromText(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether an {@code Authorization} header value carries this token, compared in constant time (no
   * early exit on the first differing byte).
   */
  public boolean admits(@Nullable String authorizationHeader) {
    if (authorizationHeader == null
        || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] presented = authorizationHeader.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(token, presented);
  }

  /** The header value that carries this token, for requests between instances. */
  public String authorizationHeader() {
    return "Bearer " + new String(token, StandardCharsets.US_ASCII);
  }

  @Override
  public String toString() {
    return "BearerToken[hidden]";
  }

  @Override
  public boolean equals(@Nullable Object other) {
    return other instanceof BearerToken o && MessageDigest.isEqual(token, o.token);
  }

  @Override
  public int hashCode() {
    return token.length;
  }
}
