package io.saestream.schema.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The shared secret that signs checkpoint manifests: HMAC-SHA256 over the UTF-8 bytes of {@code
 * sae_id + '\n' + version + '\n' + payload_sha256 + '\n' + payload_size} (decimal numbers), as
 * documented on the {@code hmac_signature} field. Binding id and version stops an old payload from
 * being replayed as a newer version.
 *
 * <p>The key bytes never appear in {@link #toString()} or exception messages. Immutable and
 * thread-safe (a {@link Mac} is created per call).
 */
public final class HmacKey {

  /** Shortest accepted key: HMAC-SHA256 keys shorter than the hash add no security margin. */
  public static final int MIN_KEY_BYTES = 32;

  private static final String ALGORITHM = "HmacSHA256";

  private final byte[] key;

  private HmacKey(byte[] key) {
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "HMAC key must have at least " + MIN_KEY_BYTES + " bytes, has " + key.length);
    }
    this.key = key.clone();
  }

  /** A key of the given bytes (copied). */
  public static HmacKey of(byte[] key) {
    return new HmacKey(Objects.requireNonNull(key, "key"));
  }

  /** A key of the UTF-8 bytes of {@code text}, e.g. from an environment variable. */
  public static HmacKey fromText(String text) {
    return new HmacKey(Objects.requireNonNull(text, "text").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A key read from {@code file}: its UTF-8 text without trailing line breaks (files written by
   * {@code echo} end with one).
   *
   * @throws UncheckedIOException when the file cannot be read (the message names the file only)
   */
  public static HmacKey fromFile(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the HMAC key file " + file, e);
    }
    int end = text.length();
    while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
      end--;
    }
    try {
      return fromText(text.substring(0, end));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** The signature of a manifest with these fields. */
  public byte[] sign(String saeId, long version, String payloadSha256, long payloadSize) {
    Mac mac = newMac();
    String message = saeId + "\n" + version + "\n" + payloadSha256 + "\n" + payloadSize;
    return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
  }

  /** Whether {@code signature} is the signature of these fields; compares in constant time. */
  public boolean verify(
      byte[] signature, String saeId, long version, String payloadSha256, long payloadSize) {
    Objects.requireNonNull(signature, "signature");
    return MessageDigest.isEqual(signature, sign(saeId, version, payloadSha256, payloadSize));
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(key, ALGORITHM));
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("the JVM cannot compute " + ALGORITHM, e);
    }
  }

  /** Never shows the key. */
  @Override
  public String toString() {
    return "HmacKey[" + key.length + " bytes]";
  }

  /** Keys are compared by content, in constant time. */
  @Override
  public boolean equals(@Nullable Object other) {
    return other instanceof HmacKey k && MessageDigest.isEqual(key, k.key);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(key);
  }
}
