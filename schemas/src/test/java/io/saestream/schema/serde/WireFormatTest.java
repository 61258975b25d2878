package io.saestream.schema.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WireFormatTest {

  @Test
  void schemaIdIsReadBigEndianFromBytesOneToFour() {
    assertThat(WireFormat.schemaIdOf(new byte[] {0, 1, 2, 3, 4})).isEqualTo(0x01020304);
    assertThat(WireFormat.schemaIdOf(new byte[] {0, 0x7f, -1, -1, -1, 9}))
        .isEqualTo(Integer.MAX_VALUE);
    assertThat(WireFormat.schemaIdOf(new byte[] {0, 0, 0, 0, (byte) 0xff})).isEqualTo(255);
  }

  @Test
  void headerWrittenIsTheHeaderRead() {
    for (int id : new int[] {0, 1, 255, 256, 65_537, Integer.MAX_VALUE}) {
      byte[] header = new byte[WireFormat.HEADER_LENGTH];
      WireFormat.writeHeader(header, id);
      assertThat(header[0]).isEqualTo(WireFormat.MAGIC_BYTE);
      assertThat(WireFormat.schemaIdOf(header)).isEqualTo(id);
    }
  }

  @Test
  void magicByteIsCheckedBeforeLength() {
    assertThatThrownBy(() -> WireFormat.schemaIdOf(new byte[] {'h', 'i'}))
        .isInstanceOf(UnknownMagicByteException.class);
    assertThatThrownBy(() -> WireFormat.schemaIdOf(new byte[] {0, 'h'}))
        .isInstanceOf(TruncatedPayloadException.class)
        .hasMessageContaining("2 bytes");
  }
}
