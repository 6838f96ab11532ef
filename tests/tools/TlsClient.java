// A small Java HTTPS client for tests/mount/t_java.sh: java TlsClient HOST PORT.
// It trusts what the JVM's default trust manager trusts, so the trust store
// is the one the command line names (-Djavax.net.ssl.trustStore=...), checks
// the host name as HTTPS does, sends one GET and prints the status line.
// Exit 0: the server was trusted and answered; 1: the handshake or the
// request failed (the reason on standard error); 2: usage.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

public final class TlsClient {
	public static void main(String[] args) {
		if (args.length != 2) {
			System.err.println("usage: java TlsClient HOST PORT");
			System.exit(2);
		}
		String host = args[0];
		int port = Integer.parseInt(args[1]);
		SSLSocketFactory f = (SSLSocketFactory) SSLSocketFactory.getDefault();
		try (SSLSocket s = (SSLSocket) f.createSocket(host, port)) {
			SSLParameters p = s.getSSLParameters();
			p.setEndpointIdentificationAlgorithm("HTTPS");
			s.setSSLParameters(p);
			s.setSoTimeout(10000);
			s.startHandshake();
			X509Certificate peer =
			    (X509Certificate) s.getSession().getPeerCertificates()[0];
			System.out.println("trusted: " +
			    peer.getSubjectX500Principal().getName());
			OutputStream out = s.getOutputStream();
			out.write(("GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n")
			    .getBytes(StandardCharsets.US_ASCII));
			out.flush();
			BufferedReader in = new BufferedReader(new InputStreamReader(
			    s.getInputStream(), StandardCharsets.US_ASCII));
			String line = in.readLine();
			if (line == null) {
				System.err.println("no answer");
				System.exit(1);
			}
			System.out.println(line);
		} catch (Exception e) {
			System.err.println("refused: " + e);
			System.exit(1);
		}
	}
}
