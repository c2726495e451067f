// MetadataOracle reads maven-metadata.xml from stdin with Maven's own strict
// reader and writes it back with Maven's writer (for metadata_test.go).
import org.apache.maven.artifact.repository.metadata.Metadata;
import org.apache.maven.artifact.repository.metadata.io.xpp3.MetadataXpp3Reader;
import org.apache.maven.artifact.repository.metadata.io.xpp3.MetadataXpp3Writer;
public class MetadataOracle {
  public static void main(String[] a) throws Exception {
    Metadata m = new MetadataXpp3Reader().read(System.in, true);
    new MetadataXpp3Writer().write(System.out, m);
  }
}
