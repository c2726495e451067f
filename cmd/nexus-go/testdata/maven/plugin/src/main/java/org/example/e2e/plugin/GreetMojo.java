package org.example.e2e.plugin;

import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugins.annotations.Mojo;

/** Prints a fixed line the test looks for in mvn's output. */
@Mojo(name = "greet", requiresProject = false)
public class GreetMojo extends AbstractMojo {
    @Override
    public void execute() {
        getLog().info("hello-maven-plugin greets the e2e test");
    }
}
