package io.saestream.synthetic.cli;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns an exception escaping {@code produce} into one line on stderr and exit code 1; the stack
 * trace only with {@code SAE_STREAM_DEBUG=1}. Usage errors never reach it: picocli reports those
 * with exit code 2. Stateless.
 */
public final class ProduceExceptionHandler implements IExecutionExceptionHandler {

  /** Exit code of a runtime failure. */
  public static final int RUNTIME_ERROR = 1;

  /** Installs this handler on {@code commandLine} and returns it. */
  public static CommandLine install(CommandLine commandLine) {
    commandLine.setExecutionExceptionHandler(new ProduceExceptionHandler());
    return commandLine;
  }

  @Override
  public int handleExecutionException(
      Exception ex, CommandLine commandLine, ParseResult parseResult) {
    commandLine.getErr().println(commandLine.getColorScheme().errorText("error: " + describe(ex)));
    if ("1".equals(System.getenv("SAE_STREAM_DEBUG"))) {
      ex.printStackTrace(commandLine.getErr());
    }
    commandLine.getErr().flush();
    return RUNTIME_ERROR;
  }

  /** A message that stands on its own: file-system exceptions otherwise carry only a path. */
  static String describe(Throwable ex) {
    String detail = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    if (ex instanceof NoSuchFileException) {
      return "no such file: " + detail;
    }
    if (ex instanceof AccessDeniedException) {
      return "permission denied: " + detail;
    }
    Throwable cause = ex.getCause();
    if (ex instanceof UncheckedIOException && cause != null) {
      return describe(cause);
    }
    return detail;
  }
}
