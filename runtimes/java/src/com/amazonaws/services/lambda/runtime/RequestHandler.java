package com.amazonaws.services.lambda.runtime;

/** A handler of typed input and output, (de)serialised as JSON by the runtime. */
public interface RequestHandler<I, O> {
    O handleRequest(I input, Context context);
}
