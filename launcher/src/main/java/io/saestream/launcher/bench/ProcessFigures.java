package io.saestream.launcher.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Figures about this process and machine that the benchmarks print: memory, CPU time (native ONNX
 * Runtime threads included, which the JVM's thread beans do not see), load average, CPU model.
 * Linux {@code /proc} where needed, "n/a" or −1 elsewhere. Stateless.
 */
final class ProcessFigures {

  /** Linux's USER_HZ: the unit of the CPU times in /proc/self/stat. */
  private static final double TICKS_PER_SECOND = 100;

  private static final Pattern SPACES = Pattern.compile(" +");

  private ProcessFigures() {}

  /**
   * Memory figures of this process.
   *
   * @param heapUsedAfterGc Java heap in use after two full GCs, bytes
   * @param heapCommitted Java heap committed (reserved from the OS) after those GCs, bytes
   * @param maxHeap the heap limit, bytes
   * @param rssKib resident set (VmRSS), KiB, or −1
   * @param peakRssKib peak resident set (VmHWM), KiB, or −1
   */
  record Memory(
      long heapUsedAfterGc, long heapCommitted, long maxHeap, long rssKib, long peakRssKib) {

    /** Collects garbage twice, then reads the figures. */
    static Memory measure() {
      MemoryMXBean bean = ManagementFactory.getMemoryMXBean();
      bean.gc();
      bean.gc();
      return new Memory(
          bean.getHeapMemoryUsage().getUsed(),
          bean.getHeapMemoryUsage().getCommitted(),
          bean.getHeapMemoryUsage().getMax(),
          procStatusKib("VmRSS"),
          procStatusKib("VmHWM"));
    }
  }

  /** User + system CPU time of the whole process (every thread) in ms, or NaN off Linux. */
  static double cpuTimeMs() {
    Path stat = Path.of("/proc/self/stat");
    if (!Files.isReadable(stat)) {
      return Double.NaN;
    }
    try {
      String text = Files.readString(stat, StandardCharsets.US_ASCII);
      // The command name may hold spaces: fields are counted after its closing parenthesis.
      List<String> fields =
          SPACES.splitAsStream(text.substring(text.lastIndexOf(')') + 2).trim()).toList();
      long ticks = Long.parseLong(fields.get(11)) + Long.parseLong(fields.get(12));
      return ticks * 1000 / TICKS_PER_SECOND;
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + stat, e);
    }
  }

  /** The 1-minute load average, or "n/a" off Linux. */
  static String loadAverage() {
    Path loadavg = Path.of("/proc/loadavg");
    if (!Files.isReadable(loadavg)) {
      return "n/a";
    }
    try {
      String text = Files.readString(loadavg, StandardCharsets.US_ASCII).trim();
      int space = text.indexOf(' ');
      return space < 0 ? text : text.substring(0, space);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + loadavg, e);
    }
  }

  /** The CPU model name, or the architecture off Linux. */
  static String cpuModel() {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(cpuinfo)) {
      return System.getProperty("os.arch");
    }
    try (Stream<String> lines = Files.lines(cpuinfo)) {
      return lines
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse(System.getProperty("os.arch"));
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + cpuinfo, e);
    }
  }

  /** A {@code kB} line of /proc/self/status, or -1 where there is none (not Linux). */
  private static long procStatusKib(String field) {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return -1;
    }
    try (Stream<String> lines = Files.lines(status)) {
      return lines
          .filter(l -> l.startsWith(field + ":"))
          .map(l -> l.substring(field.length() + 1).trim())
          .map(v -> v.endsWith(" kB") ? v.substring(0, v.length() - 3) : v)
          .mapToLong(Long::parseLong)
          .findFirst()
          .orElse(-1);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + status, e);
    }
  }
}
