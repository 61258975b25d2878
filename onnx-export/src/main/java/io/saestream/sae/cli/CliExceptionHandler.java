package io.saestream.sae.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns an exception escaping a command into one clear line on stderr and exit code 1; the stack
 * trace only with {@code SAE_STREAM_DEBUG=1}, because users need the message, not our internals.
 */
public final class CliExceptionHandler implements IExecutionExceptionHandler {

  /** Installs this handler on {@code cl} and returns it, for chaining. */
  public static CommandLine install(CommandLine cl) {
    cl.setExecutionExceptionHandler(new CliExceptionHandler());
    return cl;
  }

  /** A message that stands on its own: file-system exceptions carry only a path otherwise. */
  static String describe(Throwable ex) {
    String detail = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    if (ex instanceof java.nio.file.NoSuchFileException) {
      return "no such file or directory: " + detail;
    }
    if (ex instanceof java.nio.file.AccessDeniedException) {
      return "permission denied: " + detail;
    }
    if (ex instanceof java.nio.file.FileAlreadyExistsException) {
      return "already exists: " + detail;
    }
    if (ex instanceof java.io.UncheckedIOException && ex.getCause() != null) {
      return describe(ex.getCause());
    }
    return detail;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
    String message = describe(ex);
    cl.getErr().println(cl.getColorScheme().errorText("error: " + message));
    if ("1".equals(System.getenv("SAE_STREAM_DEBUG"))) {
      ex.printStackTrace(cl.getErr());
    }
    cl.getErr().flush();
    return 1;
  }
}
