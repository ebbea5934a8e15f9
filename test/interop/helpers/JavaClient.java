/*
 * Drives the JDK's own HTTP client, java.net.HttpURLConnection, with a java.net.Authenticator, as
 * an application would: no code of ours computes any credentials.
 *
 * Usage: javac -d DIR JavaClient.java && java -cp DIR JavaClient SESSION...
 * (test/interop/helpers/java.ts does that once per test file; `java JavaClient.java SESSION...`
 * works too, but compiles again on every run, about a second each time.)
 *
 * Each SESSION is one argument, form-urlencoded, with these keys:
 *   id               echoed back
 *   user, password   what the Authenticator answers to a server (401) challenge; none: no answer
 *                    (for Negotiate the JDK uses the Kerberos ticket cache and asks the
 *                    Authenticator, scheme "Negotiate", only when it has no ticket)
 *   proxy            http://host:port of a forward proxy (none: direct)
 *   proxyUser, proxyPassword   what the Authenticator answers to a proxy (407) challenge
 *   ca               a PEM certificate file: https origins are trusted if they present it
 *   bearer           sent by hand as "Authorization: Bearer <value>" on every request; "@token"
 *                    sends the access_token of the session's latest response that had one
 *   request          repeated, in order: "METHOD URL" or "METHOD URL BODY" (BODY form-encoded)
 *
 * The sessions of one run are independent: each has its own Authenticator, and the JDK keys its
 * cache of credentials (and of Digest nonces) by Authenticator, so nothing carries over from one
 * session to the next, while within a session it does, as in an application.
 *
 * Prints one JSON line per session:
 *   {"id", "responses": [{"method", "url", "status", "body", "exchanges", "asked"}], "error"?}
 * "exchanges" lists every request the JDK sent for that call (its Authorization and
 * Proxy-Authorization fields, the status it got, the challenges and any Authentication-Info),
 * read from the JDK's own debug log of sun.net.www.protocol.http.HttpURLConnection; "asked" lists
 * the Authenticator's calls (requestor type, scheme, realm). "error" is the exception that ended
 * the session, with the exchanges and calls of the request it ended.
 */
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Authenticator;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.PasswordAuthentication;
import java.net.Proxy;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

public class JavaClient {
  /** What the JDK logged for the current call: one entry per request header block or response. */
  private static final List<String> log = new ArrayList<>();

  /** Held here: java.util.logging keeps loggers weakly, and a collected one loses its level. */
  private static final Logger HTTP_LOG =
      Logger.getLogger("sun.net.www.protocol.http.HttpURLConnection");

  public static void main(String[] args) {
    HTTP_LOG.setLevel(Level.FINE);
    HTTP_LOG.setUseParentHandlers(false);
    HTTP_LOG.addHandler(
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            String message = record.getMessage();
            // Request and response headers come as "sun.net.www.MessageHeader@… pairs: {…}".
            if (message != null && message.contains(" pairs: {")) log.add(message);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
    for (String arg : args) System.out.println(runSession(parse(arg)));
  }

  private static Map<String, List<String>> parse(String form) {
    Map<String, List<String>> fields = new LinkedHashMap<>();
    for (String pair : form.split("&")) {
      if (pair.isEmpty()) continue;
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      fields.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }
    return fields;
  }

  private static String decode(String text) {
    return URLDecoder.decode(text, StandardCharsets.UTF_8);
  }

  private static String first(Map<String, List<String>> fields, String key) {
    List<String> values = fields.get(key);
    return values == null ? null : values.get(0);
  }

  private static String runSession(Map<String, List<String>> fields) {
    String user = first(fields, "user");
    String password = first(fields, "password");
    String proxyUser = first(fields, "proxyUser");
    String proxyPassword = first(fields, "proxyPassword");
    String bearer = first(fields, "bearer");
    List<String> asked = new ArrayList<>();
    Authenticator authenticator =
        new Authenticator() {
          @Override
          protected PasswordAuthentication getPasswordAuthentication() {
            boolean forProxy = getRequestorType() == RequestorType.PROXY;
            asked.add(
                "{\"type\":"
                    + json(getRequestorType().toString())
                    + ",\"scheme\":"
                    + json(getRequestingScheme())
                    + ",\"realm\":"
                    + json(getRequestingPrompt())
                    + "}");
            String name = forProxy ? proxyUser : user;
            String secret = forProxy ? proxyPassword : password;
            return name == null ? null : new PasswordAuthentication(name, secret.toCharArray());
          }
        };
    Proxy proxy = Proxy.NO_PROXY;
    String proxyUrl = first(fields, "proxy");
    if (proxyUrl != null) {
      URI uri = URI.create(proxyUrl);
      proxy = new Proxy(Proxy.Type.HTTP, new InetSocketAddress(uri.getHost(), uri.getPort()));
    }
    SSLSocketFactory tls = null;
    String ca = first(fields, "ca");
    if (ca != null) {
      try {
        tls = trusting(ca);
      } catch (Exception exception) {
        throw new IllegalStateException(exception);
      }
    }
    StringBuilder out = new StringBuilder("{\"id\":").append(json(first(fields, "id")));
    out.append(",\"responses\":[");
    String token = null;
    String error = null;
    boolean firstResponse = true;
    for (String request : fields.getOrDefault("request", List.of())) {
      String[] parts = request.split(" ", 3);
      log.clear();
      asked.clear();
      try {
        HttpURLConnection connection =
            (HttpURLConnection) URI.create(parts[1]).toURL().openConnection(proxy);
        connection.setAuthenticator(authenticator);
        if (tls != null && connection instanceof HttpsURLConnection https) {
          https.setSSLSocketFactory(tls);
        }
        connection.setRequestMethod(parts[0]);
        // Java's default Accept starts with text/html, for which the demo answers with a page.
        connection.setRequestProperty("Accept", "application/json");
        connection.setConnectTimeout(10_000);
        connection.setReadTimeout(10_000);
        if (bearer != null) {
          String value = bearer.equals("@token") ? token : bearer;
          if (value != null) connection.setRequestProperty("Authorization", "Bearer " + value);
        }
        if (parts.length > 2) {
          byte[] body = parts[2].getBytes(StandardCharsets.UTF_8);
          connection.setDoOutput(true);
          connection.setRequestProperty("Content-Type", "application/x-www-form-urlencoded");
          try (OutputStream stream = connection.getOutputStream()) {
            stream.write(body);
          }
        }
        int status = connection.getResponseCode();
        InputStream stream =
            status >= 400 ? connection.getErrorStream() : connection.getInputStream();
        String body = stream == null ? "" : readAll(stream);
        Matcher issued = Pattern.compile("\"access_token\":\"([^\"]+)\"").matcher(body);
        if (issued.find()) token = issued.group(1);
        if (!firstResponse) out.append(',');
        firstResponse = false;
        out.append("{\"method\":").append(json(parts[0]));
        out.append(",\"url\":").append(json(parts[1]));
        out.append(",\"status\":").append(status);
        out.append(",\"body\":").append(json(body));
        out.append(",\"exchanges\":").append(exchanges());
        out.append(",\"asked\":[").append(String.join(",", asked)).append("]}");
      } catch (Exception exception) {
        error = exception.getClass().getName() + ": " + exception.getMessage();
        break;
      }
    }
    out.append(']');
    if (error != null) {
      out.append(",\"error\":").append(json(error));
      out.append(",\"exchanges\":").append(exchanges());
      out.append(",\"asked\":[").append(String.join(",", asked)).append(']');
    }
    return out.append('}').toString();
  }

  /** TLS that trusts the one certificate in the PEM file `path` (the tests' own CA). */
  private static SSLSocketFactory trusting(String path) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (FileInputStream pem = new FileInputStream(path)) {
      CertificateFactory certificates = CertificateFactory.getInstance("X.509");
      store.setCertificateEntry("ca", certificates.generateCertificate(pem));
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context.getSocketFactory();
  }

  private static String readAll(InputStream stream) throws IOException {
    try (stream) {
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      stream.transferTo(buffer);
      return buffer.toString(StandardCharsets.UTF_8);
    }
  }

  /**
   * Pairs the logged requests with the responses that followed them: [{"request", "authorization",
   * "proxyAuthorization", "status", "challenges", "info"}], "challenges" being the
   * WWW-Authenticate or Proxy-Authenticate lines, "info" the (Proxy-)Authentication-Info field.
   */
  private static String exchanges() {
    StringBuilder out = new StringBuilder("[");
    boolean open = false;
    for (String entry : log) {
      Map<String, List<String>> headers = new LinkedHashMap<>();
      String pairs = entry.substring(entry.indexOf(" pairs: ") + 8);
      String startLine = null;
      // "{GET /path HTTP/1.1: null}{Name: value}…" or "{null: HTTP/1.1 200 OK}{Name: value}…"
      for (String pair : pairs.substring(1, Math.max(1, pairs.length() - 1)).split("\\}\\{")) {
        if (startLine == null) {
          startLine =
              pair.startsWith("null: ")
                  ? pair.substring(6)
                  : pair.endsWith(": null") ? pair.substring(0, pair.length() - 6) : pair;
          continue;
        }
        int colon = pair.indexOf(": ");
        if (colon < 0) continue;
        headers
            .computeIfAbsent(pair.substring(0, colon).toLowerCase(), k -> new ArrayList<>())
            .add(pair.substring(colon + 2));
      }
      if (startLine == null) continue;
      if (startLine.startsWith("HTTP/")) {
        if (!open) continue;
        String[] status = startLine.split(" ", 3);
        List<String> challenges = new ArrayList<>();
        challenges.addAll(headers.getOrDefault("www-authenticate", List.of()));
        challenges.addAll(headers.getOrDefault("proxy-authenticate", List.of()));
        out.append(",\"status\":").append(status.length > 1 ? status[1] : "null");
        out.append(",\"challenges\":").append(jsonList(challenges));
        String info = one(headers, "authentication-info");
        if (info == null) info = one(headers, "proxy-authentication-info");
        out.append(",\"info\":").append(json(info)).append('}');
        open = false;
      } else {
        if (open) out.append(",\"status\":null,\"challenges\":[],\"info\":null}");
        if (out.length() > 1) out.append(',');
        out.append("{\"request\":").append(json(startLine));
        out.append(",\"authorization\":").append(json(one(headers, "authorization")));
        out.append(",\"proxyAuthorization\":").append(json(one(headers, "proxy-authorization")));
        open = true;
      }
    }
    if (open) out.append(",\"status\":null,\"challenges\":[],\"info\":null}");
    return out.append(']').toString();
  }

  private static String one(Map<String, List<String>> headers, String name) {
    List<String> values = headers.get(name);
    return values == null ? null : values.get(0);
  }

  private static String jsonList(List<String> values) {
    List<String> quoted = new ArrayList<>();
    for (String value : values) quoted.add(json(value));
    return "[" + String.join(",", quoted) + "]";
  }

  private static String json(String text) {
    if (text == null) return "null";
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    return out.append('"').toString();
  }
}
