package io.saestream.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.saestream.launcher.ComposeStack.Mount;
import io.saestream.launcher.ComposeStack.PortMapping;
import io.saestream.launcher.ComposeStack.Service;
import io.saestream.schema.checkpoint.CheckpointTopic;
import io.saestream.streams.config.ConfigLoader;
import io.saestream.streams.config.Device;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.config.StreamsAppConfig;
import io.saestream.streams.monitoring.rules.AlertRule;
import io.saestream.streams.monitoring.rules.RuleParser;
import io.saestream.synthetic.produce.ProducerSettings;
import io.saestream.trainer.config.SaeTrainerConfig;
import io.saestream.trainer.config.TrainerConfig;
import io.saestream.trainer.config.TrainerConfigLoader;
import io.saestream.trainer.training.TrainingDevice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Checks of a docker-compose file against the real {@code sae-stream} CLI (picocli's model of
 * {@link SaeStreamCommand}), the real configuration loaders and the files of the repository. Each
 * check returns the problems it found, one sentence each, empty when it passed. Stateless.
 */
final class ComposeChecks {

  private static final String ENV_PREFIX = "SAE_STREAM_";
  private static final Pattern LISTENER = Pattern.compile("([A-Za-z_]+)://([^:,]*):(\\d+)");
  private static final Pattern URL_PORT = Pattern.compile("https?://([^/:\\s]+):(\\d+)(/\\S*)?");
  private static final Pattern TMPDIR = Pattern.compile("-Djava\\.io\\.tmpdir=(\\S+)");
  private static final Pattern CREATE_TOPIC =
      Pattern.compile("^create\\s+(\\S+)\\s+(\\S+)((?:\\s+[\\w.]+=\\S+)*)\\s*$");

  private ComposeChecks() {}

  /** A service that runs a {@code sae-stream} subcommand, with its parsed command line. */
  record AppService(Service service, String subcommand, ParseResult parsed) {

    String name() {
      return service.name();
    }

    /** The value of option {@code name} of the subcommand, as given, or null. */
    @Nullable String option(String name) {
      ParseResult sub = parsed.subcommand();
      if (sub == null || !sub.hasMatchedOption(name)) {
        return null;
      }
      Object value = sub.matchedOptionValue(name, null);
      return value == null ? null : value.toString();
    }

    /** For {@code produce}: the option's value from the command line, else its variable. */
    @Nullable String produceSetting(String name) {
      String given = option("--" + name);
      return given != null
          ? given
          : service.environment().get(ENV_PREFIX + name.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
  }

  /** The services built from our Dockerfile, with their command parsed by the real CLI. */
  static List<AppService> appServices(ComposeStack stack, List<String> problems) {
    List<AppService> apps = new ArrayList<>();
    for (Service s : stack.services().values()) {
      if (s.build().isEmpty()) {
        continue;
      }
      List<String> command = s.command();
      try {
        ParseResult parsed =
            SaeStreamCommand.commandLine().parseArgs(command.toArray(String[]::new));
        ParseResult sub = parsed.subcommand();
        if (sub == null || parsed.isUsageHelpRequested() || sub.isUsageHelpRequested()) {
          problems.add(s.name() + ": command " + command + " runs no subcommand");
        } else {
          apps.add(new AppService(s, sub.commandSpec().name(), parsed));
        }
      } catch (CommandLine.ParameterException e) {
        problems.add(s.name() + ": command " + command + " is rejected: " + e.getMessage());
      }
    }
    return apps;
  }

  private static List<AppService> apps(ComposeStack stack, String subcommand) {
    return appServices(stack, new ArrayList<>()).stream()
        .filter(a -> a.subcommand().equals(subcommand))
        .toList();
  }

  // ---------------------------------------------------------------- images

  /** Every image, and every base image of our Dockerfiles, is pinned to a tag other than latest. */
  static List<String> imagesArePinned(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    for (Service s : stack.services().values()) {
      Optional<String> image = s.image();
      if (image.isEmpty()) {
        problems.add(s.name() + ": no image name (a built image needs a pinned name too)");
      } else {
        pinned(image.get()).ifPresent(p -> problems.add(s.name() + ": image " + p));
      }
    }
    for (Map.Entry<Path, DockerfileModel> e : dockerfiles(stack, new ArrayList<>()).entrySet()) {
      DockerfileModel model = e.getValue();
      for (DockerfileModel.Stage stage : model.stages()) {
        if (!model.isStage(stage.base())) {
          pinned(stage.base())
              .ifPresent(p -> problems.add(stack.projectDir().relativize(e.getKey()) + ": " + p));
        }
      }
    }
    return problems;
  }

  private static Optional<String> pinned(String image) {
    String ref = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
    if (image.contains("@sha256:")) {
      return Optional.empty();
    }
    int slash = ref.lastIndexOf('/');
    int colon = ref.lastIndexOf(':');
    if (colon <= slash) {
      return Optional.of(image + " has no tag");
    }
    String tag = ref.substring(colon + 1);
    if (tag.equals("latest") || tag.isEmpty()) {
      return Optional.of(image + " is not pinned (tag '" + tag + "')");
    }
    return Optional.empty();
  }

  // ---------------------------------------------------------------- commands and environment

  /** Every command of an image we build is a real subcommand with real options. */
  static List<String> commandsAreRealSubcommands(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    appServices(stack, problems);
    return problems;
  }

  /** Every SAE_STREAM_* variable given to a service is one the app it runs reads. */
  static List<String> environmentVariablesAreConfigKeys(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    for (AppService app : appServices(stack, new ArrayList<>())) {
      Set<String> variables = new TreeSet<>();
      app.service().environment().keySet().stream()
          .filter(k -> k.startsWith(ENV_PREFIX))
          .forEach(variables::add);
      if (variables.isEmpty()) {
        continue;
      }
      switch (app.subcommand()) {
        case "streams", "trainer" -> {
          // The loaders warn about, and then ignore, a variable that names no key.
          List<String> warnings;
          try {
            warnings =
                LoaderWarnings.during(
                    () -> {
                      if (app.subcommand().equals("streams")) {
                        loadStreams(stack, app);
                      } else {
                        loadTrainer(stack, app);
                      }
                    });
          } catch (IllegalArgumentException | UncheckedIOException e) {
            problems.add(app.name() + ": cannot check its variables, the config does not load");
            continue;
          }
          for (String variable : variables) {
            if (warnings.stream().anyMatch(w -> w.contains(variable))) {
              problems.add(
                  app.name() + ": " + variable + " names no " + app.subcommand() + " config key");
            }
          }
        }
        case "produce" -> {
          Set<String> known = new TreeSet<>();
          CommandLine produce = SaeStreamCommand.commandLine().getSubcommands().get("produce");
          if (produce != null) {
            for (OptionSpec o : produce.getCommandSpec().options()) {
              if (o.type() == String.class) {
                known.add(
                    ENV_PREFIX
                        + o.longestName().substring(2).toUpperCase(Locale.ROOT).replace('-', '_'));
              }
            }
          }
          for (String variable : variables) {
            if (!known.contains(variable)) {
              problems.add(
                  app.name() + ": " + variable + " names no produce option; known: " + known);
            }
          }
        }
        default ->
            problems.add(
                app.name()
                    + ": "
                    + app.subcommand()
                    + " reads no SAE_STREAM_* variables, but is given "
                    + variables);
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------- configuration files

  /** Every bind-mounted file exists, and every app's --config is mounted and loads. */
  static List<String> mountedConfigsLoad(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    for (Service s : stack.services().values()) {
      for (Mount m : s.volumes()) {
        if (m.bind() && !Files.exists(stack.hostPath(m.source()))) {
          problems.add(s.name() + ": mounts " + m.source() + ", which does not exist");
        }
      }
    }
    for (AppService app : appServices(stack, new ArrayList<>())) {
      try {
        switch (app.subcommand()) {
          case "streams" -> rulesLoad(stack, app, loadStreams(stack, app), problems);
          case "trainer" -> loadTrainer(stack, app);
          default -> {}
        }
      } catch (IllegalArgumentException | UncheckedIOException e) {
        problems.add(app.name() + ": " + e.getMessage());
      }
    }
    return problems;
  }

  private static void rulesLoad(
      ComposeStack stack, AppService app, StreamsAppConfig config, List<String> problems) {
    Path rules = config.monitoring().rulesFile();
    if (rules == null) {
      return;
    }
    Optional<Path> host = hostFile(stack, app.service(), rules);
    if (host.isEmpty()) {
      problems.add(app.name() + ": monitoring.rules-file " + rules + " is not bind-mounted");
      return;
    }
    List<AlertRule> parsed = RuleParser.parseFile(read(host.get()));
    Set<String> deployed = new TreeSet<>();
    config.deployments().forEach(d -> deployed.add(d.saeId()));
    for (AlertRule rule : parsed) {
      if (!deployed.contains(rule.saeId())) {
        problems.add(
            app.name()
                + ": rule "
                + rule.ruleId()
                + " watches sae-id "
                + rule.saeId()
                + ", which is not deployed ("
                + deployed
                + ")");
      }
    }
  }

  /** The streams app's configuration as the container sees it: its paths are container paths. */
  static StreamsAppConfig loadStreams(ComposeStack stack, AppService app) {
    Path file = configFile(app);
    Path host = mountedConfig(stack, app, file);
    return ConfigLoader.parse(read(host), parent(file), app.service().environment());
  }

  /** The trainer's configuration as the container sees it. */
  static TrainerConfig loadTrainer(ComposeStack stack, AppService app) {
    Path file = configFile(app);
    Path host = mountedConfig(stack, app, file);
    return TrainerConfigLoader.parse(read(host), parent(file), app.service().environment());
  }

  private static Path configFile(AppService app) {
    String file = app.option("--config");
    if (file == null) {
      throw new IllegalArgumentException("runs " + app.subcommand() + " without --config");
    }
    return Path.of(file);
  }

  private static Path mountedConfig(ComposeStack stack, AppService app, Path file) {
    Path host =
        hostFile(stack, app.service(), file)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "--config " + file + " is not a file bind-mounted into the container"));
    if (!Files.isRegularFile(host)) {
      throw new IllegalArgumentException("--config " + file + " is mounted from missing " + host);
    }
    return host;
  }

  private static Path parent(Path file) {
    Path parent = file.getParent();
    return parent == null ? Path.of("/") : parent;
  }

  /** The host file a bind mount puts at {@code containerPath}, if a bind mount does. */
  private static Optional<Path> hostFile(ComposeStack stack, Service service, Path containerPath) {
    return service
        .mountFor(containerPath)
        .filter(Mount::bind)
        .map(
            m ->
                stack
                    .hostPath(m.source())
                    .resolve(Path.of(m.target()).relativize(containerPath.normalize()))
                    .normalize());
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  // ---------------------------------------------------------------- paths and volumes

  /**
   * Every path an app's configuration names lies in a mount of its container (a writable one where
   * the app writes), and an SAE that another service writes to a shared volume is waited for.
   */
  static List<String> configuredPathsAreMounted(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    for (AppService app : apps(stack, "streams")) {
      StreamsAppConfig config;
      try {
        config = loadStreams(stack, app);
      } catch (IllegalArgumentException | UncheckedIOException e) {
        problems.add(app.name() + ": cannot check its paths, the config does not load");
        continue;
      }
      Service s = app.service();
      requireMount(s, "streams.state-dir", config.streams().stateDir(), true, problems);
      Path rules = config.monitoring().rulesFile();
      if (rules != null) {
        requireMount(s, "monitoring.rules-file", rules, false, problems);
      }
      List<Path> waitedFor = waitForFiles(s);
      waitedFor.forEach(p -> requireMount(s, "WAIT_FOR_FILES", p, false, problems));
      for (int i = 0; i < config.deployments().size(); i++) {
        SaeDeployment d = config.deployments().get(i);
        String key = "deployments[" + i + "].path";
        requireMount(s, key, d.path(), false, problems);
        Optional<Mount> mount = s.mountFor(d.path());
        if (mount.isPresent() && !mount.get().bind()) {
          firstVersionComesFromATrainer(stack, app, key, d, mount.get(), waitedFor, problems);
        }
      }
    }
    for (AppService app : apps(stack, "trainer")) {
      TrainerConfig config;
      try {
        config = loadTrainer(stack, app);
      } catch (IllegalArgumentException | UncheckedIOException e) {
        problems.add(app.name() + ": cannot check its paths, the config does not load");
        continue;
      }
      Service s = app.service();
      Path state = config.state().dir();
      if (state != null) {
        requireMount(s, "state.dir", state, true, problems);
      }
      for (int i = 0; i < config.trainers().size(); i++) {
        Path out = config.trainers().get(i).outputDir();
        if (out == null) {
          continue;
        }
        String key = "trainers[" + i + "].output-dir";
        requireMount(s, key, out, true, problems);
        // SnapshotPublisher writes each version to a temporary directory, then moves it into
        // output-dir: across file systems (the container's /tmp and a volume) that move fails.
        Matcher tmp = TMPDIR.matcher(s.environment().getOrDefault("JAVA_OPTS", ""));
        Optional<Mount> outMount = s.mountFor(out);
        Optional<Mount> tmpMount =
            tmp.find() ? s.mountFor(Path.of(tmp.group(1))) : Optional.empty();
        if (outMount.isPresent() && !outMount.equals(tmpMount)) {
          problems.add(
              app.name()
                  + ": "
                  + key
                  + " is on mount "
                  + outMount.get().target()
                  + " but java.io.tmpdir is not (set -Djava.io.tmpdir in JAVA_OPTS to a"
                  + " directory on the same mount, or publishing a version fails)");
        }
      }
    }
    return problems;
  }

  private static List<Path> waitForFiles(Service s) {
    List<Path> paths = new ArrayList<>();
    for (String p : s.environment().getOrDefault("WAIT_FOR_FILES", "").trim().split("\\s+", -1)) {
      if (!p.isEmpty()) {
        paths.add(Path.of(p));
      }
    }
    return paths;
  }

  private static void requireMount(
      Service s, String key, Path path, boolean writable, List<String> problems) {
    Optional<Mount> mount = s.mountFor(path);
    if (mount.isEmpty()) {
      problems.add(s.name() + ": " + key + " " + path + " is in no volume or bind mount");
    } else if (writable && mount.get().readOnly()) {
      problems.add(s.name() + ": " + key + " " + path + " is on a read-only mount");
    }
  }

  private static void firstVersionComesFromATrainer(
      ComposeStack stack,
      AppService app,
      String key,
      SaeDeployment deployment,
      Mount mount,
      List<Path> waitedFor,
      List<String> problems) {
    Path inVolume = Path.of(mount.target()).relativize(deployment.path());
    for (AppService trainer : apps(stack, "trainer")) {
      List<Mount> shared =
          trainer.service().volumes().stream()
              .filter(m -> !m.bind() && m.source().equals(mount.source()))
              .toList();
      if (shared.isEmpty()) {
        continue;
      }
      TrainerConfig config;
      try {
        config = loadTrainer(stack, trainer);
      } catch (IllegalArgumentException | UncheckedIOException e) {
        return; // reported by mountedConfigsLoad
      }
      for (SaeTrainerConfig t : config.trainers()) {
        Path out = t.outputDir();
        if (out == null || !t.saeId().equals(deployment.saeId())) {
          continue;
        }
        Path written = out.resolve(t.saeId()).resolve("v" + Math.max(1, deployment.version()));
        for (Mount m : shared) {
          if (m.covers(written) && Path.of(m.target()).relativize(written).equals(inVolume)) {
            if (waitedFor.stream().noneMatch(w -> w.startsWith(deployment.path()))) {
              problems.add(
                  app.name()
                      + ": "
                      + key
                      + " is written by "
                      + trainer.name()
                      + " after the start; list a file of it in WAIT_FOR_FILES");
            }
            return;
          }
        }
      }
      problems.add(
          app.name()
              + ": "
              + key
              + " "
              + deployment.path()
              + " is in volume "
              + mount.source()
              + ", which "
              + trainer.name()
              + " shares, but no trainer writes sae-id "
              + deployment.saeId()
              + " version "
              + Math.max(1, deployment.version())
              + " there");
    }
  }

  // ---------------------------------------------------------------- ports and addresses

  /**
   * Every published port is one the service listens on (Kafka listener, registry listener, the
   * streams app's http.port), host ports are unique, healthchecks probe the right port, and every
   * app reaches Kafka and the registry at an address those services advertise.
   */
  static List<String> portsAndAddressesMatch(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    Map<String, Integer> streamsHttpPorts = new HashMap<>();
    for (AppService app : apps(stack, "streams")) {
      try {
        StreamsAppConfig config = loadStreams(stack, app);
        streamsHttpPorts.put(app.name(), config.http().port());
        if (!config.http().enabled()) {
          problems.add(app.name() + ": http.enabled is false, nothing serves /ready");
        }
        if (config.http().bind().equals("127.0.0.1") || config.http().bind().equals("localhost")) {
          problems.add(
              app.name() + ": http.bind " + config.http().bind() + " is unreachable from outside");
        }
        checkHealthcheckPort(app.service(), config.http().port(), problems);
      } catch (IllegalArgumentException | UncheckedIOException e) {
        problems.add(app.name() + ": cannot check its ports, the config does not load");
      }
    }
    Map<Integer, String> hostPorts = new HashMap<>();
    for (Service s : stack.services().values()) {
      Map<String, String> env = s.environment();
      for (PortMapping p : s.ports()) {
        Integer host = p.host();
        if (host != null) {
          String other = hostPorts.putIfAbsent(host, s.name());
          if (other != null) {
            problems.add(s.name() + ": host port " + host + " is also published by " + other);
          }
        }
        if (env.containsKey("KAFKA_LISTENERS")) {
          kafkaPort(s, p, problems);
        } else if (env.containsKey("SCHEMA_REGISTRY_LISTENERS")) {
          Set<Integer> ports = listenerPorts(env.get("SCHEMA_REGISTRY_LISTENERS"));
          if (!ports.contains(p.container())) {
            problems.add(
                s.name() + ": publishes " + p.container() + ", registry listens on " + ports);
          }
        } else if (streamsHttpPorts.containsKey(s.name())) {
          int http = streamsHttpPorts.get(s.name());
          if (p.container() != http) {
            problems.add(s.name() + ": publishes " + p.container() + ", http.port is " + http);
          }
        } else {
          problems.add(
              s.name() + ": publishes " + p.container() + ", which no rule of this check knows");
        }
      }
    }
    addressesResolve(stack, problems);
    return problems;
  }

  private static void checkHealthcheckPort(Service s, int httpPort, List<String> problems) {
    String test = String.join(" ", s.healthcheckTest());
    Matcher m = URL_PORT.matcher(test);
    if (!m.find()) {
      problems.add(s.name() + ": no HTTP healthcheck (expected one against /ready)");
      return;
    }
    if (Integer.parseInt(m.group(2)) != httpPort || !"/ready".equals(m.group(3))) {
      problems.add(
          s.name()
              + ": healthcheck probes "
              + m.group()
              + ", the app serves :"
              + httpPort
              + "/ready");
    }
  }

  private static void kafkaPort(Service s, PortMapping p, List<String> problems) {
    Map<String, String> env = s.environment();
    Map<String, Integer> listeners = listeners(env.get("KAFKA_LISTENERS"));
    String name = null;
    for (Map.Entry<String, Integer> l : listeners.entrySet()) {
      if (l.getValue() == p.container()) {
        name = l.getKey();
      }
    }
    if (name == null) {
      problems.add(
          s.name() + ": publishes " + p.container() + ", Kafka listens on " + listeners.values());
      return;
    }
    // A client on the host connects to the published port, then to what the broker advertises.
    Matcher m = LISTENER.matcher(env.getOrDefault("KAFKA_ADVERTISED_LISTENERS", ""));
    while (m.find()) {
      if (m.group(1).equals(name)) {
        if (!Integer.valueOf(Integer.parseInt(m.group(3))).equals(p.host())) {
          problems.add(
              s.name()
                  + ": listener "
                  + name
                  + " is published on host port "
                  + p.host()
                  + " but advertised as "
                  + m.group(2)
                  + ":"
                  + m.group(3));
        }
        return;
      }
    }
    problems.add(s.name() + ": listener " + name + " is published but not advertised");
  }

  private static Map<String, Integer> listeners(@Nullable String text) {
    Map<String, Integer> out = new LinkedHashMap<>();
    Matcher m = LISTENER.matcher(text == null ? "" : text);
    while (m.find()) {
      out.put(m.group(1), Integer.parseInt(m.group(3)));
    }
    return out;
  }

  private static Set<Integer> listenerPorts(@Nullable String text) {
    return new TreeSet<>(listeners(text).values());
  }

  private static void addressesResolve(ComposeStack stack, List<String> problems) {
    Set<String> advertised = new TreeSet<>();
    Map<String, Set<Integer>> registries = new HashMap<>();
    for (Service s : stack.services().values()) {
      Matcher m = LISTENER.matcher(s.environment().getOrDefault("KAFKA_ADVERTISED_LISTENERS", ""));
      while (m.find()) {
        if (!m.group(2).equals("localhost")) {
          advertised.add(m.group(2) + ":" + m.group(3));
        }
      }
      if (s.environment().containsKey("SCHEMA_REGISTRY_LISTENERS")) {
        registries.put(s.name(), listenerPorts(s.environment().get("SCHEMA_REGISTRY_LISTENERS")));
      }
    }
    for (AppService app : appServices(stack, new ArrayList<>())) {
      String bootstrap;
      List<URI> registryUrls = new ArrayList<>();
      try {
        switch (app.subcommand()) {
          case "streams" -> {
            StreamsAppConfig c = loadStreams(stack, app);
            bootstrap = c.kafka().bootstrapServers();
            registryUrls.addAll(c.schemaRegistry().urls());
          }
          case "trainer" -> {
            TrainerConfig c = loadTrainer(stack, app);
            bootstrap = c.kafka().bootstrapServers();
            registryUrls.addAll(c.registryUrls());
          }
          case "produce" -> {
            String b = app.produceSetting("bootstrap-servers");
            String r = app.produceSetting("registry-url");
            bootstrap = b == null ? "localhost:9092" : b;
            for (String u : (r == null ? "http://localhost:8081" : r).split(",", -1)) {
              registryUrls.add(URI.create(u.trim()));
            }
          }
          default -> {
            continue;
          }
        }
      } catch (IllegalArgumentException | UncheckedIOException e) {
        problems.add(app.name() + ": cannot check its addresses, the config does not load");
        continue;
      }
      for (String server : bootstrap.split(",", -1)) {
        if (!advertised.contains(server.trim())) {
          problems.add(
              app.name()
                  + ": bootstrap server "
                  + server
                  + " is not a listener Kafka advertises to containers "
                  + advertised);
        }
      }
      for (URI url : registryUrls) {
        Set<Integer> ports = registries.get(url.getHost());
        if (ports == null || !ports.contains(url.getPort())) {
          problems.add(
              app.name() + ": schema registry " + url + " is not a registry service's listener");
        }
      }
    }
  }

  // ---------------------------------------------------------------- Dockerfiles

  /**
   * Every build's context and Dockerfile exist, its target is a stage, its args are declared, and
   * every COPY source exists in the context.
   */
  static List<String> dockerfilesExist(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    Map<Path, DockerfileModel> models = dockerfiles(stack, problems);
    for (Service s : stack.services().values()) {
      Optional<JsonNode> build = s.build();
      if (build.isEmpty()) {
        continue;
      }
      Path context = stack.hostPath(build.get().path("context").asText("."));
      Path dockerfile = context.resolve(build.get().path("dockerfile").asText("Dockerfile"));
      DockerfileModel model = models.get(dockerfile.normalize());
      if (model == null) {
        continue; // reported by dockerfiles()
      }
      String target = build.get().path("target").asText("");
      if (!target.isEmpty() && model.stage(target).isEmpty()) {
        problems.add(s.name() + ": build target " + target + " is no stage of " + dockerfile);
      }
      build
          .get()
          .path("args")
          .fieldNames()
          .forEachRemaining(
              arg -> {
                if (!model.declaredArgs().contains(arg)) {
                  problems.add(
                      s.name() + ": build arg " + arg + " is not an ARG of the Dockerfile");
                }
              });
      for (DockerfileModel.Stage stage : model.stages()) {
        for (DockerfileModel.Instruction i : stage.instructions()) {
          if (i.keyword().equals("COPY") || i.keyword().equals("ADD")) {
            for (String source : copySources(i.arguments())) {
              if (!Files.exists(context.resolve(source))) {
                problems.add(
                    s.name() + ": " + i.keyword() + " source " + source + " is not in the context");
              }
            }
          }
        }
      }
    }
    return problems;
  }

  /** The sources of a COPY/ADD from the build context; none for {@code --from=<stage>}. */
  private static List<String> copySources(String arguments) {
    List<String> words = new ArrayList<>(List.of(arguments.trim().split("\\s+", -1)));
    if (words.stream().anyMatch(w -> w.startsWith("--from="))) {
      return List.of();
    }
    words.removeIf(w -> w.startsWith("--"));
    return words.size() < 2 ? List.of() : words.subList(0, words.size() - 1);
  }

  private static Map<Path, DockerfileModel> dockerfiles(ComposeStack stack, List<String> problems) {
    Map<Path, DockerfileModel> models = new LinkedHashMap<>();
    for (Service s : stack.services().values()) {
      Optional<JsonNode> build = s.build();
      if (build.isEmpty()) {
        continue;
      }
      Path context = stack.hostPath(build.get().path("context").asText("."));
      Path dockerfile =
          context.resolve(build.get().path("dockerfile").asText("Dockerfile")).normalize();
      if (!Files.isDirectory(context)) {
        problems.add(s.name() + ": build context " + context + " does not exist");
      } else if (!Files.isRegularFile(dockerfile)) {
        problems.add(s.name() + ": Dockerfile " + dockerfile + " does not exist");
      } else if (!models.containsKey(dockerfile)) {
        models.put(dockerfile, DockerfileModel.parse(read(dockerfile)));
      }
    }
    return models;
  }

  // ---------------------------------------------------------------- dependencies and profiles

  /** Every depends_on names a service that can satisfy its condition. */
  static List<String> dependenciesExist(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    for (Service s : stack.services().values()) {
      for (Map.Entry<String, String> d : s.dependsOn().entrySet()) {
        Service target = stack.services().get(d.getKey());
        if (target == null) {
          problems.add(s.name() + ": depends on " + d.getKey() + ", which is no service");
          continue;
        }
        if (d.getValue().equals("service_healthy") && target.healthcheckTest().isEmpty()) {
          problems.add(
              s.name() + ": waits for " + d.getKey() + " to be healthy, which has no healthcheck");
        }
        if (!target.profiles().isEmpty() && !s.profiles().containsAll(target.profiles())) {
          problems.add(
              s.name()
                  + ": depends on "
                  + d.getKey()
                  + ", which only runs with profiles "
                  + target.profiles());
        }
      }
    }
    return problems;
  }

  /**
   * The gpu profile exists and each of its services reserves an NVIDIA GPU, is built with the Maven
   * gpu profile on a CUDA 12 base, and configures its app for CUDA.
   */
  static List<String> gpuProfileReservesAnNvidiaDevice(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    List<Service> gpu =
        stack.services().values().stream().filter(s -> s.profiles().contains("gpu")).toList();
    if (gpu.isEmpty()) {
      problems.add("no service has the gpu profile");
    }
    Map<Path, DockerfileModel> models = dockerfiles(stack, new ArrayList<>());
    for (Service s : gpu) {
      boolean reserved = false;
      for (JsonNode device :
          s.node().path("deploy").path("resources").path("reservations").path("devices")) {
        boolean nvidia = device.path("driver").asText().equals("nvidia");
        boolean gpuCapability = false;
        for (JsonNode c : device.path("capabilities")) {
          gpuCapability |= c.asText().equals("gpu");
        }
        reserved |= nvidia && gpuCapability;
      }
      if (!reserved) {
        problems.add(s.name() + ": reserves no device with driver nvidia and capability gpu");
      }
      Optional<JsonNode> build = s.build();
      if (build.isEmpty()) {
        problems.add(s.name() + ": is not built from our Dockerfile");
        continue;
      }
      if (!build.get().path("args").path("MAVEN_PROFILE").asText().equals("gpu")) {
        problems.add(s.name() + ": is not built with MAVEN_PROFILE=gpu (onnxruntime_gpu)");
      }
      Path context = stack.hostPath(build.get().path("context").asText("."));
      DockerfileModel model =
          models.get(
              context.resolve(build.get().path("dockerfile").asText("Dockerfile")).normalize());
      if (model != null) {
        String target = build.get().path("target").asText("");
        Optional<DockerfileModel.Stage> stage =
            target.isEmpty() ? Optional.of(model.lastStage()) : model.stage(target);
        String base = stage.map(model::rootImage).orElse("?");
        if (!base.startsWith("nvidia/cuda:12.")) {
          problems.add(s.name() + ": runs on " + base + ", not a CUDA 12 image (nvidia/cuda:12.*)");
        }
        boolean passesProfile =
            model.stages().stream()
                .flatMap(st -> st.instructions().stream())
                .anyMatch(
                    i ->
                        i.keyword().equals("RUN")
                            && i.arguments().contains("mvnw")
                            && i.arguments().matches("(?s).*-P\"?\\$\\{?MAVEN_PROFILE\\}?.*"));
        if (!passesProfile) {
          problems.add(s.name() + ": the Dockerfile does not pass MAVEN_PROFILE to Maven's -P");
        }
      }
    }
    for (AppService app : appServices(stack, new ArrayList<>())) {
      if (!app.service().profiles().contains("gpu")) {
        continue;
      }
      try {
        boolean cuda =
            switch (app.subcommand()) {
              case "streams" -> loadStreams(stack, app).inference().device() == Device.CUDA;
              case "trainer" -> loadTrainer(stack, app).runtime().device() == TrainingDevice.CUDA;
              default -> true;
            };
        if (!cuda) {
          problems.add(app.name() + ": reserves a GPU but does not configure device cuda");
        }
      } catch (IllegalArgumentException | UncheckedIOException e) {
        problems.add(app.name() + ": cannot check its device, the config does not load");
      }
    }
    return problems;
  }

  /**
   * The demo profile runs the synthetic producer, and what it produces (model, hook, d_in) is what
   * a trainer learns and the streams app serves.
   */
  static List<String> demoProducerFeedsTheApps(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    List<AppService> producers =
        apps(stack, "produce").stream()
            .filter(a -> a.service().profiles().contains("demo"))
            .toList();
    if (producers.isEmpty()) {
      problems.add("no service of the demo profile runs produce");
    }
    List<SaeTrainerConfig> trainers = new ArrayList<>();
    List<SaeDeployment> deployments = new ArrayList<>();
    try {
      for (AppService t : apps(stack, "trainer")) {
        trainers.addAll(loadTrainer(stack, t).trainers());
      }
      for (AppService st : apps(stack, "streams")) {
        deployments.addAll(loadStreams(stack, st).deployments());
      }
    } catch (IllegalArgumentException | UncheckedIOException e) {
      problems.add("cannot check the demo producer, a config does not load");
      return problems;
    }
    for (AppService p : producers) {
      String model = p.produceSetting("model-id");
      String hook = p.produceSetting("hook-name");
      String dIn = p.produceSetting("d-in");
      if (model == null || hook == null || dIn == null) {
        problems.add(p.name() + ": set model-id, hook-name and d-in explicitly to compare them");
        continue;
      }
      boolean trained =
          trainers.stream()
              .anyMatch(
                  t ->
                      t.modelId().equals(model)
                          && t.hookName().equals(hook)
                          && String.valueOf(t.dIn()).equals(dIn.trim()));
      if (!trained) {
        problems.add(
            p.name() + ": no trainer learns " + model + " / " + hook + " with d-in " + dIn);
      }
      boolean served =
          deployments.stream()
              .anyMatch(d -> model.equals(d.modelId()) && hook.equals(d.hookName()));
      if (!served) {
        problems.add(p.name() + ": no streams deployment serves " + model + " / " + hook);
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------- topics

  /**
   * Every topic an app reads or writes is created by the stack's topic script (the apps create
   * none), with the settings the apps rely on.
   */
  static List<String> topicsAreCreated(ComposeStack stack) {
    List<String> problems = new ArrayList<>();
    Map<String, Map<String, String>> created = createdTopics(stack, problems);
    Map<String, String> needed = new LinkedHashMap<>();
    int largestRecord = 0;
    try {
      for (AppService app : apps(stack, "streams")) {
        StreamsAppConfig c = loadStreams(stack, app);
        needed.put(c.topics().activations(), app.name());
        needed.put(c.topics().features(), app.name());
        needed.put(c.topics().reconstruction(), app.name());
        needed.put(c.topics().deadLetter(), app.name());
        if (c.checkpoints().follow()) {
          needed.put(c.checkpoints().topic(), app.name());
          checkpointTopic(c.checkpoints().topic(), created, problems);
        }
        if (c.monitoring().enabled()) {
          needed.put(c.monitoring().alertsTopic(), app.name());
          needed.put(c.monitoring().rulesTopic(), app.name());
          Map<String, String> rules = created.get(c.monitoring().rulesTopic());
          if (rules != null && !"compact".equals(rules.get("cleanup.policy"))) {
            problems.add(c.monitoring().rulesTopic() + " must be compacted (rules by id)");
          }
        }
        int activations = maxMessageBytes(created.get(c.topics().activations()));
        int deadLetters = maxMessageBytes(created.get(c.topics().deadLetter()));
        if (deadLetters < activations) {
          problems.add(
              c.topics().deadLetter()
                  + " takes records up to "
                  + deadLetters
                  + " bytes, smaller than "
                  + c.topics().activations()
                  + "'s "
                  + activations
                  + ": a dead letter keeps the original record");
        }
      }
      for (AppService app : apps(stack, "trainer")) {
        TrainerConfig c = loadTrainer(stack, app);
        needed.put(c.topics().activations(), app.name());
        needed.put(c.topics().checkpoints(), app.name());
        checkpointTopic(c.topics().checkpoints(), created, problems);
      }
    } catch (IllegalArgumentException | UncheckedIOException e) {
      problems.add("cannot check the topics, a config does not load");
    }
    for (AppService app : apps(stack, "produce")) {
      String topic = app.produceSetting("topic");
      String topicName = topic == null ? ProducerSettings.DEFAULT_TOPIC : topic;
      needed.put(topicName, app.name());
      String size = app.produceSetting("max-request-size");
      largestRecord =
          Math.max(
              largestRecord,
              size == null
                  ? ProducerSettings.DEFAULT_MAX_REQUEST_SIZE_BYTES
                  : Integer.parseInt(size));
      int limit = maxMessageBytes(created.get(topicName));
      if (created.containsKey(topicName) && limit < largestRecord) {
        problems.add(
            topicName
                + " takes records up to "
                + limit
                + " bytes, "
                + app.name()
                + " sends up to "
                + largestRecord);
      }
    }
    for (Map.Entry<String, String> n : needed.entrySet()) {
      if (!created.containsKey(n.getKey())) {
        problems.add(n.getValue() + ": uses topic " + n.getKey() + ", which is never created");
      }
    }
    // Several apps share a topic: say each problem once.
    return List.copyOf(new LinkedHashSet<>(problems));
  }

  private static void checkpointTopic(
      String topic, Map<String, Map<String, String>> created, List<String> problems) {
    Map<String, String> configs = created.get(topic);
    if (configs != null && !configs.entrySet().containsAll(CheckpointTopic.CONFIGS.entrySet())) {
      problems.add(topic + " is created with " + configs + ", needs " + CheckpointTopic.CONFIGS);
    }
  }

  private static int maxMessageBytes(@Nullable Map<String, String> configs) {
    // The broker's default message.max.bytes, about 1 MiB.
    String value = configs == null ? null : configs.get("max.message.bytes");
    return value == null ? 1048588 : Integer.parseInt(value);
  }

  /** The topics the script run by a service creates, with their configs. */
  private static Map<String, Map<String, String>> createdTopics(
      ComposeStack stack, List<String> problems) {
    Map<String, Map<String, String>> topics = new LinkedHashMap<>();
    boolean found = false;
    for (Service s : stack.services().values()) {
      List<String> run = new ArrayList<>(s.entrypoint());
      run.addAll(s.command());
      for (String word : run) {
        if (!word.startsWith("/")) {
          continue;
        }
        Optional<Path> script = hostFile(stack, s, Path.of(word));
        if (script.isEmpty() || !Files.isRegularFile(script.get())) {
          continue;
        }
        for (String line : read(script.get()).split("\n", -1)) {
          Matcher m = CREATE_TOPIC.matcher(line.strip());
          if (m.matches()) {
            found = true;
            Map<String, String> configs = new LinkedHashMap<>();
            for (String kv : m.group(3).trim().split("\\s+", -1)) {
              int eq = kv.indexOf('=');
              if (eq > 0) {
                configs.put(kv.substring(0, eq), kv.substring(eq + 1));
              }
            }
            topics.put(m.group(1), configs);
          }
        }
      }
    }
    if (!found) {
      problems.add("no service runs a script that creates topics ('create NAME PARTITIONS ...')");
    }
    return topics;
  }
}
