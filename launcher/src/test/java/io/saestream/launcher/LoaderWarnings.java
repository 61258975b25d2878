package io.saestream.launcher;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The warnings sae-stream code logs while an action runs. The configuration loaders warn about a
 * {@code SAE_STREAM_*} variable that names no key and then ignore it, so this is how a test sees
 * that a variable was not taken. The level of the {@code io.saestream} logger is set to WARN
 * meanwhile, so that a quieter log configuration cannot hide them. Not thread-safe: tests that use
 * it run one at a time.
 */
final class LoaderWarnings {

  private LoaderWarnings() {}

  /** Runs {@code action} and returns the messages of the WARN and ERROR events it logged. */
  static List<String> during(Runnable action) {
    Logger logger = (Logger) LoggerFactory.getLogger("io.saestream");
    Level level = logger.getLevel();
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.WARN);
    try {
      action.run();
    } finally {
      logger.setLevel(level);
      logger.detachAppender(appender);
    }
    List<String> warnings = new ArrayList<>();
    for (ILoggingEvent event : appender.list) {
      if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
        warnings.add(event.getFormattedMessage());
      }
    }
    return warnings;
  }
}
