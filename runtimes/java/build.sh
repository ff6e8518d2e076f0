#!/bin/sh
# runtimes/java/build.sh: compiles lambdad's java runtime client (src/: the
# aws-lambda-java-core interfaces user code compiles against, and
# lambdad.Bootstrap) into classes/, against Debian's Jackson
# (libjackson2-databind-java). Needs a JDK's javac; `lambdad runtime install
# java17` and `make test` run it. Quick when classes/ is newer than src/.
set -eu
cd "$(dirname "$0")"
JACKSON=/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar
stamp=classes/.built
if [ -f "$stamp" ] && [ -z "$(find src -newer "$stamp" -name '*.java' | head -1)" ]; then
	exit 0
fi
rm -rf classes.new
mkdir -p classes.new
javac -nowarn -Xlint:-options --release 11 -encoding UTF-8 -d classes.new -cp "$JACKSON" $(find src -name '*.java' | sort)
touch classes.new/.built
rm -rf classes
mv classes.new classes
