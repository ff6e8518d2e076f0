package com.amazonaws.services.lambda.runtime;

/** The caller's Cognito identity, when it has one. */
public interface CognitoIdentity {
    String getIdentityId();

    String getIdentityPoolId();
}
