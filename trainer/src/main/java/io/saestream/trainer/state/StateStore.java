package io.saestream.trainer.state;

import io.saestream.trainer.training.TrainerState;
import io.saestream.trainer.training.TrainingSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's durable state: a directory of numbered generations, each a complete, consistent
 * {@link DurableState} (one safetensors file per SAE and a {@code manifest.json} with their sizes,
 * SHA-256 digests and the consumer positions).
 *
 * <pre>
 * state-dir/
 *   gen-00000000000000000007/   manifest.json, sae-0.safetensors, ...
 *   gen-00000000000000000008/
 *   .gen-00000000000000000009.&lt;random&gt;.tmp/   a save in progress (or interrupted by a crash)
 *   gen-00000000000000000006.corrupt/          a generation that failed its checks, set aside
 * </pre>
 *
 * <p>A save writes a hidden temporary directory, fsyncs every file and the directory, renames it to
 * its generation name (atomic on POSIX file systems) and fsyncs the parent; a crash at any moment
 * leaves either the previous generations alone or the new one complete. The newest {@code keep}
 * generations are kept, so that a newest one damaged later (a disk fault, a manual edit) still
 * leaves one to fall back to: {@link #loadNewest} verifies the manifest, each file's size and
 * digest and its content, reports and sets aside a generation that fails, and tries the previous
 * one.
 *
 * <p>Ownership: one trainer process owns a state directory (it removes temporaries it finds on
 * load); {@link #newestManifest} is the read-only view for tools and tests. Thread-safe (methods
 * are synchronized; saves are expected from one writer thread).
 */
public final class StateStore {

  private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);

  /** The manifest's file name in a generation directory. */
  public static final String MANIFEST = "manifest.json";

  private static final Pattern GENERATION = Pattern.compile("gen-([0-9]{20})");
  private static final Pattern ANY_GENERATION = Pattern.compile("gen-([0-9]{20})(\\.corrupt)?");
  private static final String CORRUPT_SUFFIX = ".corrupt";

  private final Path dir;
  private final int keep;
  private final List<String> rejections = new ArrayList<>();
  private long nextGeneration;

  private StateStore(Path dir, int keep, long nextGeneration) {
    this.dir = dir;
    this.keep = keep;
    this.nextGeneration = nextGeneration;
  }

  /**
   * Opens (creating it when absent) the state directory {@code dir}, keeping the newest {@code
   * keep} generations.
   *
   * @throws IllegalArgumentException when {@code keep < 1}
   * @throws UncheckedIOException when the directory cannot be created or listed
   */
  public static StateStore open(Path dir, int keep) {
    if (keep < 1) {
      throw new IllegalArgumentException("state keep must be >= 1, was " + keep);
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the state directory " + dir, e);
    }
    long highest = 0;
    for (Path p : list(dir)) {
      Matcher m = ANY_GENERATION.matcher(String.valueOf(p.getFileName()));
      if (m.matches()) {
        highest = Math.max(highest, Long.parseLong(m.group(1)));
      }
    }
    return new StateStore(dir, keep, highest + 1);
  }

  /** The directory. */
  public Path dir() {
    return dir;
  }

  /**
   * The manifest of the newest generation in {@code dir}, without checking its files; empty when
   * there is none (or it cannot be parsed). Read-only: safe while a trainer saves into {@code dir}.
   */
  public static Optional<StateManifest> newestManifest(Path dir) {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    for (Path gen : generations(dir)) {
      try {
        return Optional.of(StateManifest.parse(Files.readAllBytes(gen.resolve(MANIFEST))));
      } catch (IOException | IllegalArgumentException e) {
        LOG.debug("no readable manifest in {}: {}", gen, e.toString());
      }
    }
    return Optional.empty();
  }

  /**
   * A state that was loaded.
   *
   * @param generation its generation number
   * @param manifest its manifest
   * @param state its content, restricted to the SAEs asked for
   */
  public record Loaded(long generation, StateManifest manifest, DurableState state) {}

  /**
   * Loads the newest intact generation, with a {@link TrainerState} for each SAE of {@code
   * settings} that it holds (SAEs it holds that are not asked for are logged and left out). A
   * generation that fails its checks is logged at WARN, listed in {@link #rejections()}, renamed
   * {@code gen-<n>.corrupt}, and the previous one is tried. Temporary directories of interrupted
   * saves are removed.
   *
   * @return empty when no generation is intact (or there is none)
   * @throws IncompatibleStateException when the newest intact generation holds one of the SAEs with
   *     another shape, rule or scaling than {@code settings} gives it
   */
  public synchronized Optional<Loaded> loadNewest(Map<String, TrainingSettings> settings) {
    removeTemporaries();
    for (Path gen : generations(dir)) {
      try {
        return Optional.of(load(gen, settings));
      } catch (CorruptStateException e) {
        rejections.add(e.getMessage());
        Path aside = gen.resolveSibling(gen.getFileName() + CORRUPT_SUFFIX);
        LOG.warn(
            "state generation {} is corrupt; setting it aside as {} and falling back to the"
                + " previous generation: {}",
            gen.getFileName(),
            aside.getFileName(),
            e.getMessage());
        try {
          Files.move(gen, aside);
        } catch (IOException moveFailure) {
          // Left in place it is refused again next time; the fallback works all the same.
          LOG.warn("cannot set {} aside", gen, moveFailure);
        }
      }
    }
    return Optional.empty();
  }

  /** Why each generation set aside by {@link #loadNewest} was refused, oldest first. */
  public synchronized List<String> rejections() {
    return List.copyOf(rejections);
  }

  /**
   * Saves {@code state} as the next generation (atomically and durably, see the class comment),
   * then deletes the generations beyond the newest {@code keep}.
   *
   * @return the new generation's number
   * @throws UncheckedIOException when it cannot be written (no partial generation is left)
   */
  public synchronized long save(DurableState state) {
    long generation = nextGeneration++;
    String name = generationName(generation);
    Path tmp =
        dir.resolve(
            "."
                + name
                + "."
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong())
                + ".tmp");
    try {
      Files.createDirectory(tmp);
      List<StateManifest.Entry> entries = new ArrayList<>();
      int i = 0;
      for (Map.Entry<String, DurableState.SaeState> e : state.saes().entrySet()) {
        String file = "sae-" + i++ + ".safetensors";
        TrainerState s = e.getValue().state();
        TrainerStateFile.Written w;
        try (FileChannel ch =
            FileChannel.open(
                tmp.resolve(file), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          w = TrainerStateFile.write(s, ch);
          ch.force(true);
        }
        entries.add(
            new StateManifest.Entry(
                e.getKey(),
                file,
                w.bytes(),
                w.sha256(),
                s.snapshot().step(),
                s.snapshot().tokensTrained(),
                s.tokensSeen(),
                e.getValue().lastVersion()));
      }
      StateManifest manifest =
          new StateManifest(generation, state.savedAt(), state.positions(), entries);
      try (FileChannel ch =
          FileChannel.open(
              tmp.resolve(MANIFEST), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(manifest.toJson());
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      syncDirectory(tmp);
      Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
      syncDirectory(dir);
    } catch (IOException | RuntimeException e) {
      try {
        deleteTree(tmp);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      if (e instanceof IOException io) {
        throw new UncheckedIOException("cannot save state generation " + generation, io);
      }
      throw (RuntimeException) e;
    }
    prune();
    return generation;
  }

  private Loaded load(Path gen, Map<String, TrainingSettings> settings)
      throws CorruptStateException {
    StateManifest manifest;
    try {
      manifest = StateManifest.parse(Files.readAllBytes(gen.resolve(MANIFEST)));
    } catch (NoSuchFileException e) {
      throw new CorruptStateException(gen + ": no " + MANIFEST, e);
    } catch (IOException e) {
      throw new CorruptStateException(gen + ": cannot read " + MANIFEST + ": " + e, e);
    } catch (IllegalArgumentException e) {
      throw new CorruptStateException(gen + ": bad " + MANIFEST + ": " + e.getMessage(), e);
    }
    long number = Long.parseLong(gen.getFileName().toString().substring("gen-".length()));
    if (manifest.generation() != number) {
      throw new CorruptStateException(
          gen + ": " + MANIFEST + " names generation " + manifest.generation());
    }
    // Every file's integrity first, so that damage is never reported as an incompatibility.
    for (StateManifest.Entry e : manifest.saes()) {
      verify(gen, e);
    }
    Map<String, DurableState.SaeState> saes = new LinkedHashMap<>();
    for (StateManifest.Entry e : manifest.saes()) {
      TrainingSettings s = settings.get(e.saeId());
      if (s == null) {
        LOG.warn(
            "state generation {} holds SAE {}, which is no longer configured; it is left out",
            gen.getFileName(),
            e.saeId());
        continue;
      }
      TrainerState state = TrainerStateFile.read(gen.resolve(e.file()), s);
      if (state.snapshot().step() != e.step() || state.tokensSeen() != e.tokensSeen()) {
        throw new CorruptStateException(
            gen + ": " + e.file() + " disagrees with " + MANIFEST + " on step or tokens seen");
      }
      saes.put(e.saeId(), new DurableState.SaeState(state, e.lastVersion()));
    }
    if (saes.isEmpty()) {
      throw new IncompatibleStateException(
          gen + " holds none of the configured SAEs " + settings.keySet());
    }
    return new Loaded(
        number, manifest, new DurableState(manifest.savedAt(), manifest.positions(), saes));
  }

  private static void verify(Path gen, StateManifest.Entry e) throws CorruptStateException {
    Path file = gen.resolve(e.file());
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException x) {
      throw new CorruptStateException(gen + ": " + e.file() + " is missing", x);
    } catch (IOException x) {
      throw new CorruptStateException(gen + ": cannot read " + e.file() + ": " + x, x);
    }
    if (size != e.bytes()) {
      throw new CorruptStateException(
          String.format(
              Locale.ROOT,
              "%s: %s is %d bytes, the manifest says %d (truncated or overwritten)",
              gen,
              e.file(),
              size,
              e.bytes()));
    }
    String digest = sha256(file);
    if (!digest.equals(e.sha256())) {
      throw new CorruptStateException(
          gen + ": " + e.file() + " has SHA-256 " + digest + ", the manifest says " + e.sha256());
    }
  }

  private static String sha256(Path file) throws CorruptStateException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (ch.read(buf) >= 0) {
        buf.flip();
        digest.update(buf);
        buf.clear();
      }
    } catch (IOException e) {
      throw new CorruptStateException(file + ": cannot read: " + e, e);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private void removeTemporaries() {
    for (Path p : list(dir)) {
      String name = String.valueOf(p.getFileName());
      if (name.startsWith(".gen-") && name.endsWith(".tmp")) {
        LOG.info("removing {}, left by a state save that did not finish", p);
        try {
          deleteTree(p);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot remove the unfinished state save " + p, e);
        }
      }
    }
  }

  private void prune() {
    List<Path> gens = generations(dir);
    for (int i = keep; i < gens.size(); i++) {
      try {
        deleteTree(gens.get(i));
      } catch (IOException e) {
        // The state just saved is durable; an old generation left behind only costs disk.
        LOG.warn("cannot delete the old state generation {}: {}", gens.get(i), e.toString());
      }
    }
  }

  /** The generation directories of {@code dir}, newest first. */
  private static List<Path> generations(Path dir) {
    List<Path> out = new ArrayList<>();
    for (Path p : list(dir)) {
      if (GENERATION.matcher(String.valueOf(p.getFileName())).matches() && Files.isDirectory(p)) {
        out.add(p);
      }
    }
    out.sort(Comparator.comparing((Path p) -> String.valueOf(p.getFileName())).reversed());
    return out;
  }

  private static List<Path> list(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      s.forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the state directory " + dir, e);
    }
    return out;
  }

  static String generationName(long generation) {
    return String.format(Locale.ROOT, "gen-%020d", generation);
  }

  /**
   * Forces a directory's entries to disk. Not every platform can open a directory (Windows cannot);
   * there the rename is as durable as the OS makes it, which is logged.
   */
  private static void syncDirectory(Path d) {
    try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG.debug("cannot fsync directory {} on this platform: {}", d, e.toString());
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
