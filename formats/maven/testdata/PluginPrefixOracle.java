// PluginPrefixOracle prints, for each artifactId on stdin, the goal prefix
// Maven's PluginDescriptor derives from it (for pom_test.go).
import java.io.*;
import org.apache.maven.plugin.descriptor.PluginDescriptor;
public class PluginPrefixOracle {
  public static void main(String[] a) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    String l;
    while ((l = r.readLine()) != null) {
      System.out.println(PluginDescriptor.getGoalPrefixFromArtifactId(l));
    }
  }
}
