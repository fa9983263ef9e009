/*
 * Removes the ModuleHashes attribute from module-info.class files, in place.
 *
 * java.base's descriptor records the hashes of the modules linked with it,
 * as packaged (jmod files). Relinking a runtime image from its extracted
 * modules (build.sh) links exploded directories, whose hashes jlink cannot
 * compute: it refuses them unless the recording module records none. The
 * constant pool is copied as it is, so the other attributes (ModuleTarget,
 * ModulePackages, ModuleResolution) stay byte for byte.
 *
 * Run with the JDK's source launcher:
 *   java --add-exports java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED \
 *       StripModuleHashes.java DIR/java.base/module-info.class...
 */

import java.nio.file.Files;
import java.nio.file.Path;

import jdk.internal.org.objectweb.asm.Attribute;
import jdk.internal.org.objectweb.asm.ClassReader;
import jdk.internal.org.objectweb.asm.ClassVisitor;
import jdk.internal.org.objectweb.asm.ClassWriter;
import jdk.internal.org.objectweb.asm.Opcodes;

public class StripModuleHashes {
    public static void main(String[] args) throws Exception {
        for (String arg : args) {
            Path file = Path.of(arg);
            ClassReader reader = new ClassReader(Files.readAllBytes(file));
            ClassWriter writer = new ClassWriter(reader, 0);
            reader.accept(new ClassVisitor(Opcodes.ASM8, writer) {
                @Override
                public void visitAttribute(Attribute attribute) {
                    if (!attribute.type.equals("ModuleHashes")) {
                        super.visitAttribute(attribute);
                    }
                }
            }, 0);
            Files.write(file, writer.toByteArray());
        }
    }
}
