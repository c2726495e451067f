// VersionOracle prints, for each tab-separated pair of versions on stdin,
// the sign of Maven's ComparableVersion comparison (for version_test.go).
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;
public class VersionOracle {
  public static void main(String[] a) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    String l;
    while ((l = r.readLine()) != null) {
      String[] p = l.split("\t", -1);
      int c = new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
      System.out.println(Integer.signum(c));
    }
  }
}
