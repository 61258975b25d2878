package io.saestream.schema.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HmacKeyTest {

  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  @TempDir Path tmp;

  @Test
  void theSignatureIsHmacSha256OfTheDocumentedMessage() throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    byte[] expected = mac.doFinal("sae\n12\nabcd\n4096".getBytes(StandardCharsets.UTF_8));

    byte[] signature = HmacKey.fromText(SECRET).sign("sae", 12, "abcd", 4096);

    assertThat(HexFormat.of().formatHex(signature)).isEqualTo(HexFormat.of().formatHex(expected));
    assertThat(HmacKey.fromText(SECRET).verify(signature, "sae", 12, "abcd", 4096)).isTrue();
    assertThat(HmacKey.fromText(SECRET).verify(signature, "sae", 12, "abcd", 4097)).isFalse();
    assertThat(HmacKey.fromText(SECRET).verify(new byte[3], "sae", 12, "abcd", 4096)).isFalse();
  }

  @Test
  void shortKeysAreRefused() {
    assertThatThrownBy(() -> HmacKey.fromText("short"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("HMAC key must have at least 32 bytes, has 5");
  }

  @Test
  void aKeyFileLosesItsTrailingLineBreak() throws IOException {
    Path file = tmp.resolve("key");
    Files.writeString(file, SECRET + "\n");

    assertThat(HmacKey.fromFile(file)).isEqualTo(HmacKey.fromText(SECRET));
  }

  @Test
  void aMissingKeyFileNamesTheFileOnly() {
    Path file = tmp.resolve("absent");
    assertThatThrownBy(() -> HmacKey.fromFile(file))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessage("cannot read the HMAC key file " + file);
  }

  @Test
  void theKeyNeverShowsInItsStringForm() {
    assertThat(HmacKey.fromText(SECRET).toString())
        .isEqualTo("HmacKey[32 bytes]")
        .doesNotContain("0123");
  }
}
