package io.saestream.streams.http;

import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Sends a GET to another instance of the app: forwarded interactive queries and the fan-out of the
 * alert feed and overview. Implementations time out quickly and are thread-safe.
 */
public interface PeerClient {

  /**
   * GETs {@code pathAndQuery} from the instance at {@code hostPort}, passing {@code authorization}
   * on. The future fails with {@link PeerUnreachableException} when the peer cannot be reached or
   * does not answer in time.
   */
  CompletableFuture<PeerResponse> get(
      String hostPort, String pathAndQuery, @Nullable String authorization);

  /**
   * A peer's answer.
   *
   * @param status HTTP status
   * @param body the body (JSON)
   */
  record PeerResponse(int status, String body) {}

  /** The peer could not be reached or did not answer within the timeout. */
  final class PeerUnreachableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The peer at {@code hostPort} failed with {@code cause}. */
    public PeerUnreachableException(String hostPort, Throwable cause) {
      super(hostPort + " is unreachable: " + cause, cause);
    }
  }
}
