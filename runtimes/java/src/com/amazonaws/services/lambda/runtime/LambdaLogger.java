package com.amazonaws.services.lambda.runtime;

/** The function's log: lines written to it go to its log stream. */
public interface LambdaLogger {
    void log(String message);

    void log(byte[] message);
}
