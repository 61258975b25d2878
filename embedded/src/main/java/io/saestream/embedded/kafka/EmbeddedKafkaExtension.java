package io.saestream.embedded.kafka;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that gives integration tests a running {@link EmbeddedKafkaBroker}, and injects
 * it into test and lifecycle method parameters of that type.
 *
 * <p>Two lifetimes: {@link #shared()} (also what {@code @ExtendWith(EmbeddedKafkaExtension.class)}
 * gives) starts one default broker the first time any test class asks and closes it when the whole
 * test run ends, so test classes sharing it must use distinct topic and group names; {@link
 * #perClass(EmbeddedKafkaConfig)}, registered on a {@code static} field with
 * {@code @RegisterExtension}, starts a broker before the class's tests and closes it after them.
 *
 * <p>JUnit is a {@code provided} dependency of this module: using the extension needs JUnit Jupiter
 * on the test classpath, which every module's tests have. Thread-safe as JUnit requires.
 */
public final class EmbeddedKafkaExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(EmbeddedKafkaExtension.class);
  private static final String SHARED_KEY = "shared-broker";

  private final @Nullable EmbeddedKafkaConfig perClassConfig;
  private @Nullable EmbeddedKafkaBroker broker;
  private @Nullable String ownerId;

  /** The shared broker; for {@code @ExtendWith(EmbeddedKafkaExtension.class)}. */
  public EmbeddedKafkaExtension() {
    this(null);
  }

  private EmbeddedKafkaExtension(@Nullable EmbeddedKafkaConfig perClassConfig) {
    this.perClassConfig = perClassConfig;
  }

  /** One broker with default settings for the whole test run, closed when the run ends. */
  public static EmbeddedKafkaExtension shared() {
    return new EmbeddedKafkaExtension(null);
  }

  /** A broker with {@code config} for the test class whose static field registers this. */
  public static EmbeddedKafkaExtension perClass(EmbeddedKafkaConfig config) {
    return new EmbeddedKafkaExtension(config);
  }

  /** A broker with default settings for the test class whose static field registers this. */
  public static EmbeddedKafkaExtension perClass() {
    return perClass(EmbeddedKafkaConfig.defaults());
  }

  /**
   * The running broker.
   *
   * @throws IllegalStateException before the test class started (e.g. registered on an instance
   *     field, where JUnit never calls {@code beforeAll})
   */
  public synchronized EmbeddedKafkaBroker broker() {
    EmbeddedKafkaBroker b = broker;
    if (b == null) {
      throw new IllegalStateException(
          "no broker yet: register EmbeddedKafkaExtension on a static field with"
              + " @RegisterExtension, or with @ExtendWith, and use it from tests or @BeforeAll");
    }
    return b;
  }

  /** Shorthand for {@code broker().bootstrapServers()}. */
  public String bootstrapServers() {
    return broker().bootstrapServers();
  }

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    if (broker != null) {
      return; // a @Nested class inherits the extension and the enclosing class's broker
    }
    EmbeddedKafkaConfig config = perClassConfig;
    if (config == null) {
      broker =
          context
              .getRoot()
              .getStore(NAMESPACE)
              // The root store closes AutoCloseable values when the test run ends.
              .getOrComputeIfAbsent(
                  SHARED_KEY,
                  key -> EmbeddedKafkaBroker.withDefaults().start(),
                  EmbeddedKafkaBroker.class);
    } else {
      broker = new EmbeddedKafkaBroker(config).start();
      ownerId = context.getUniqueId();
    }
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) {
    EmbeddedKafkaBroker b = broker;
    if (b != null && context.getUniqueId().equals(ownerId)) {
      broker = null;
      ownerId = null;
      b.close();
    }
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == EmbeddedKafkaBroker.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return broker();
  }
}
