// Client of the app's read-only JSON API (see the HTTP contract): relative URLs, so the page works
// behind a path prefix, and the bearer token, when one is given, on every request.

/** A failed API call: the HTTP status and the server's {"error": ...} message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class Api {
  /** @param {string|null} token bearer token, or null when the server needs none */
  constructor(token) {
    this.token = token;
  }

  /** GET api/v1/<path> as JSON; throws ApiError on a non-2xx answer or a network failure. */
  async get(path) {
    const headers = { Accept: "application/json" };
    if (this.token) {
      headers.Authorization = `Bearer ${this.token}`;
    }
    let response;
    try {
      response = await fetch(`api/v1/${path}`, { headers, cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, `cannot reach the app (${e.message})`);
    }
    if (!response.ok) {
      let message = response.statusText || "request failed";
      try {
        const body = await response.json();
        if (body && typeof body.error === "string") {
          message = body.error;
        }
      } catch (ignored) {
        // Not JSON (a proxy's page, say): the status text is all there is.
      }
      throw new ApiError(response.status, message);
    }
    return response.json();
  }

  overview() {
    return this.get("overview");
  }

  alerts(limit) {
    return this.get(`alerts?limit=${limit}`);
  }

  windows(sae, limit) {
    return this.get(`saes/${encodeURIComponent(sae)}/windows?limit=${limit}`);
  }

  topLatents(sae, limit) {
    return this.get(`saes/${encodeURIComponent(sae)}/latents/top?limit=${limit}&window=latest`);
  }

  latent(sae, latent, windows) {
    return this.get(`saes/${encodeURIComponent(sae)}/latents/${latent}?windows=${windows}`);
  }
}
