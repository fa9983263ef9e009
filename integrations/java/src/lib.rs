//! The enlightened Java, as its tests see it.
//!
//! `integrations/java/build.sh` relinks Debian's OpenJDK 17 runtime image
//! from its own modules, once as it is and once with the `java.base`
//! classes that read code patched (`mayexec.patch`), each into a private
//! JDK home that uses Debian's JVM and libraries for everything else:
//! `target/java-{stock,mayexec}/bin/java` (`MAYEXEC_JAVA=PATH` points the
//! tests at another build). Debian's own `java` is [`DEBIAN`].
//!
//! To Java, code is class files, jars, source programs and native
//! libraries: the tests make them at test time with Debian's JDK
//! ([`Programs`]).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mayexec_testkit::interp::workspace_root;
pub use mayexec_testkit::interp::Built;

/// The enlightened Java as its tests find it.
pub const BUILT: Built = Built {
    what: "the enlightened Java",
    env: Some("MAYEXEC_JAVA"),
    installed: "target/java-mayexec/bin/java",
    build_script: "integrations/java/build.sh",
};

/// The same home with Debian's image relinked as it is: the baseline.
pub const STOCK: Built = Built {
    what: "the stock Java relinked from Debian's image",
    env: None,
    installed: "target/java-stock/bin/java",
    build_script: "integrations/java/build.sh",
};

/// Debian's JDK home.
pub const DEBIAN_HOME: &str = "/usr/lib/jvm/java-17-openjdk-amd64";

/// Debian's `java`.
pub const DEBIAN: &str = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";

/// The message the enlightened Java prints when it refuses `label`.
pub fn denial(label: impl AsRef<OsStr>, reason: &str) -> String {
    mayexec_testkit::interp::denial("java", label, reason)
}

/// A program that prints `hello from x`: the class `Hello`, and the
/// module `m`'s `m.Hello`.
pub const HELLO: &str = r#"public class Hello {
    public static void main(String[] args) {
        System.out.println("hello from x");
    }
}
"#;

/// `m.Hello`, in the module `m`.
const MODULE_HELLO: &str = r#"package m;
public class Hello {
    public static void main(String[] args) {
        System.out.println("hello from x");
    }
}
"#;

/// An allowed program that loads code as a program does:
/// `Loader load LIBRARY` (`System.load`, then `loaded`) and `Loader ucl
/// DIR-OR-JAR CLASS` (a `URLClassLoader` of its own over DIR-OR-JAR whose
/// parent is the platform loader, then CLASS's `main`). A failure prints
/// the exception's class and message (and its cause's message) and exits
/// with status 1.
pub const LOADER: &str = r#"import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;

public class Loader {
    public static void main(String[] args) throws Exception {
        try {
            switch (args[0]) {
            case "load":
                System.load(args[1]);
                System.out.println("loaded");
                break;
            case "ucl":
                URL[] urls = { Path.of(args[1]).toUri().toURL() };
                try (URLClassLoader loader =
                         new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
                    loader.loadClass(args[2])
                          .getMethod("main", String[].class)
                          .invoke(null, (Object) new String[0]);
                }
                break;
            default:
                System.exit(2);
            }
        } catch (UnsatisfiedLinkError | ClassNotFoundException e) {
            Throwable cause = e.getCause();
            System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage()
                               + (cause == null ? "" : ": " + cause.getMessage()));
            System.exit(1);
        }
    }
}
"#;

/// A program that prints its `JAVA_TOOL_OPTIONS`, then runs its arguments
/// as a child process (inheriting its environment and output) and exits
/// with the child's status.
pub const SPAWN: &str = r#"public class Spawn {
    public static void main(String[] args) throws Exception {
        System.out.println("JAVA_TOOL_OPTIONS=" + System.getenv("JAVA_TOOL_OPTIONS"));
        System.exit(new ProcessBuilder(args).inheritIO().start().waitFor());
    }
}
"#;

/// A native library (`answer`: 42).
const LIBRARY: &str = "int answer(void) { return 42; }\n";

/// A JVMTI agent that says `agent loaded` on standard error when the JVM
/// starts with it, `agent attached` when it is loaded into a running one.
pub const NATIVE_AGENT: &str = r#"#include <jni.h>
#include <stdio.h>
JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved)
{
    fprintf(stderr, "agent loaded\n");
    return 0;
}
JNIEXPORT jint JNICALL Agent_OnAttach(JavaVM *vm, char *options, void *reserved)
{
    fprintf(stderr, "agent attached\n");
    return 0;
}
"#;

/// A Java agent that says `premain` before the program runs.
pub const JAVA_AGENT: &str = r#"public class Agent {
    public static void premain(String args) {
        System.out.println("premain");
    }
}
"#;

/// The programs the tests run, made once per test process.
#[derive(Debug)]
pub struct Programs {
    /// `Hello.java` ([`HELLO`]).
    pub hello_source: Vec<u8>,
    /// `Hello.class`.
    pub hello_class: Vec<u8>,
    /// `hello.jar`: `Hello.class`, `Main-Class: Hello`.
    pub hello_jar: Vec<u8>,
    /// The module `m`: `module-info.class`.
    pub module_info: Vec<u8>,
    /// The module `m`: `m/Hello.class`.
    pub module_hello: Vec<u8>,
    /// The module `m` as a modular jar.
    pub module_jar: Vec<u8>,
    /// `Loader.class` ([`LOADER`]).
    pub loader_class: Vec<u8>,
    /// `Spawn.class` ([`SPAWN`]).
    pub spawn_class: Vec<u8>,
    /// `libanswer.so`.
    pub library: Vec<u8>,
    /// `libagent.so`: a JVMTI agent ([`NATIVE_AGENT`]).
    pub native_agent: Vec<u8>,
    /// `agent.jar`: a Java agent ([`JAVA_AGENT`], `Premain-Class: Agent`).
    pub java_agent: Vec<u8>,
    /// The same agent whose manifest adds `Boot-Class-Path: extra.jar`.
    pub boot_class_path_agent: Vec<u8>,
}

/// Where the tests build their programs.
pub fn test_dir() -> PathBuf {
    workspace_root().join("target/java-build/tests")
}

/// A tool of Debian's JDK.
pub fn jdk_tool(name: &str) -> PathBuf {
    Path::new(DEBIAN_HOME).join("bin").join(name)
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

impl Programs {
    /// Makes them (once per process).
    pub fn get() -> &'static Programs {
        static PROGRAMS: OnceLock<Programs> = OnceLock::new();
        PROGRAMS.get_or_init(|| {
            let dir = test_dir().join(format!("build-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            for sub in ["src/m/m", "classes", "module/m"] {
                fs::create_dir_all(dir.join(sub)).expect("mkdir the build directory");
            }
            let write = |name: &str, text: &str| {
                fs::write(dir.join(name), text).expect("write a source");
            };
            write("src/Hello.java", HELLO);
            write("src/Loader.java", LOADER);
            write("src/Spawn.java", SPAWN);
            write("src/m/module-info.java", "module m {\n}\n");
            write("src/m/m/Hello.java", MODULE_HELLO);
            write("answer.c", LIBRARY);
            write("agent.c", NATIVE_AGENT);
            write("src/Agent.java", JAVA_AGENT);
            write("agent.mf", "Premain-Class: Agent\n");
            write(
                "boot.mf",
                "Premain-Class: Agent\nBoot-Class-Path: extra.jar\n",
            );
            run(Command::new(jdk_tool("javac")).current_dir(&dir).args([
                "-d",
                "classes",
                "src/Hello.java",
                "src/Loader.java",
                "src/Agent.java",
                "src/Spawn.java",
            ]));
            for (jar, manifest) in [("agent.jar", "agent.mf"), ("boot.jar", "boot.mf")] {
                run(Command::new(jdk_tool("jar")).current_dir(&dir).args([
                    "--create",
                    "--file",
                    jar,
                    "--manifest",
                    manifest,
                    "-C",
                    "classes",
                    "Agent.class",
                ]));
            }
            run(Command::new(jdk_tool("javac")).current_dir(&dir).args([
                "-d",
                "module/m",
                "src/m/module-info.java",
                "src/m/m/Hello.java",
            ]));
            run(Command::new(jdk_tool("jar")).current_dir(&dir).args([
                "--create",
                "--file",
                "hello.jar",
                "--main-class",
                "Hello",
                "-C",
                "classes",
                "Hello.class",
            ]));
            run(Command::new(jdk_tool("jar"))
                .current_dir(&dir)
                .args(["--create", "--file", "m.jar", "-C", "module/m", "."]));
            run(Command::new("gcc").current_dir(&dir).args([
                "-shared",
                "-fPIC",
                "-o",
                "libanswer.so",
                "answer.c",
            ]));
            let include = Path::new(DEBIAN_HOME).join("include");
            run(Command::new("gcc")
                .current_dir(&dir)
                .args(["-shared", "-fPIC", "-o", "libagent.so", "agent.c"])
                .arg(format!("-I{}", include.display()))
                .arg(format!("-I{}", include.join("linux").display())));
            let programs = Programs {
                hello_source: HELLO.as_bytes().to_vec(),
                hello_class: read(&dir.join("classes/Hello.class")),
                hello_jar: read(&dir.join("hello.jar")),
                module_info: read(&dir.join("module/m/module-info.class")),
                module_hello: read(&dir.join("module/m/m/Hello.class")),
                module_jar: read(&dir.join("m.jar")),
                loader_class: read(&dir.join("classes/Loader.class")),
                spawn_class: read(&dir.join("classes/Spawn.class")),
                library: read(&dir.join("libanswer.so")),
                native_agent: read(&dir.join("libagent.so")),
                java_agent: read(&dir.join("agent.jar")),
                boot_class_path_agent: read(&dir.join("boot.jar")),
            };
            let _ = fs::remove_dir_all(&dir);
            programs
        })
    }
}
