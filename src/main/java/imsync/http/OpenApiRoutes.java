package imsync.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.HttpCharsets;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /openapi.yaml} (no token): the API document. The build copies the repo's root
 * {@code openapi.yaml} onto the class path, so the file served is the one in the repository.
 */
public final class OpenApiRoutes extends AllDirectives {
  static final String RESOURCE = "openapi.yaml";
  private static final ContentType YAML = MediaTypes.applicationWithOpenCharset("yaml").toContentType(HttpCharsets.UTF_8);

  private final byte[] document;

  public OpenApiRoutes() {
    this.document = load();
  }

  private static byte[] load() {
    try (InputStream in = OpenApiRoutes.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      // a build without it is broken (pom.xml copies it): fail at start, not on the first request
      if (in == null) throw new IllegalStateException(RESOURCE + " is not on the class path");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Route route() {
    return path("openapi.yaml", () -> get(() ->
        complete(HttpResponse.create().withEntity(HttpEntities.create(YAML, document)))));
  }
}
