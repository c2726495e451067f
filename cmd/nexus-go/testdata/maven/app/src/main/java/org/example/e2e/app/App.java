package org.example.e2e.app;

import org.example.e2e.lib.Greeting;

public final class App {
    private App() {}

    public static String greet() {
        return Greeting.of("app");
    }
}
