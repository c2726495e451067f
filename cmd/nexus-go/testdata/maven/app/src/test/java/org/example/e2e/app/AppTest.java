package org.example.e2e.app;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class AppTest {
    @Test
    public void greets() {
        assertEquals("hello, app", App.greet());
    }
}
