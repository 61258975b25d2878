package io.saestream.schema.checkpoint;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** SHA-256 digests in the lowercase hexadecimal form the checkpoint records carry. */
final class Sha256 {

  private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

  private Sha256() {}

  /** A fresh digest; every JVM has SHA-256. */
  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM lacks SHA-256, which every JVM must provide", e);
    }
  }

  /** Lowercase hex SHA-256 of {@code data}. */
  static String hex(byte[] data) {
    return HexFormat.of().formatHex(newDigest().digest(data));
  }

  /** Lowercase hex of what {@code digest} has absorbed; resets it. */
  static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }

  /** Whether {@code text} is 64 lowercase hexadecimal digits. */
  static boolean isHex(String text) {
    return HEX.matcher(text).matches();
  }
}
