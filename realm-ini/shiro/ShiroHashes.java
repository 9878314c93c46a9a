// Prints `[users]` lines with passwords hashed by Apache Shiro itself, for realm-ini's
// compatibility test (tests/shiro_compat.rs) and its fixture (tests/fixtures/shiro-users.ini).
//
//   javac -cp /usr/share/java/shiro-core.jar -d OUT ShiroHashes.java
//   java -cp OUT:/usr/share/java/shiro-core.jar:/usr/share/java/slf4j-api.jar ShiroHashes < requests
//
// Each line of standard input (UTF-8) is `user<TAB>mode<TAB>roles<TAB>password` (roles: a
// comma-separated list, possibly empty; the password is the rest of the line), where mode is
//   default                   DefaultPasswordService exactly as shipped (SHA-256, 500000 iterations,
//                             random 16-byte salt): what `encryptPassword` writes;
//   ALGORITHM:ITERATIONS      DefaultPasswordService with a DefaultHashService set to that
//                             algorithm and iteration count (random public salt);
//   ALGORITHM:ITERATIONS:SALT SimpleHash(ALGORITHM, password, SALT (UTF-8), ITERATIONS) formatted
//                             by Shiro1CryptFormat: deterministic output, for the fixture.
// For each it prints `user = $shiro1$...[, role...]` and checks with Shiro's own passwordsMatch that the
// printed string verifies (exit 1 otherwise).
//
// With the argument `parse FILE` it instead parses FILE with Shiro's own `Ini` class and prints
// what Shiro's TextConfigurationRealm would make of [users] and [roles]: one line per entry,
// `users<TAB>name<TAB>token<TAB>token...` (password first, then roles) and
// `roles<TAB>name<TAB>permission...`, each token split by Shiro's StringUtils.split.
// Passwords are printed: use it only on test files.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.shiro.authc.credential.DefaultPasswordService;
import org.apache.shiro.config.Ini;
import org.apache.shiro.crypto.hash.DefaultHashService;
import org.apache.shiro.crypto.hash.SimpleHash;
import org.apache.shiro.crypto.hash.format.Shiro1CryptFormat;
import org.apache.shiro.util.StringUtils;

public class ShiroHashes {
    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("parse")) {
            parse(args[1]);
            return;
        }
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", 4);
            if (f.length != 4) {
                System.err.println(
                        "expected user<TAB>mode<TAB>roles<TAB>password, got " + f.length + " fields");
                System.exit(2);
            }
            String user = f[0], mode = f[1], roles = f[2], password = f[3];
            DefaultPasswordService service = new DefaultPasswordService();
            String stored;
            if (mode.equals("default")) {
                stored = service.encryptPassword(password);
            } else {
                String[] m = mode.split(":", 3);
                int iterations = Integer.parseInt(m[1]);
                if (m.length == 3) {
                    SimpleHash hash = new SimpleHash(m[0], password, m[2], iterations);
                    stored = new Shiro1CryptFormat().format(hash);
                } else {
                    DefaultHashService hashes = new DefaultHashService();
                    hashes.setHashAlgorithmName(m[0]);
                    hashes.setHashIterations(iterations);
                    hashes.setGeneratePublicSalt(true);
                    service.setHashService(hashes);
                    stored = service.encryptPassword(password);
                }
            }
            // Shiro's own check of what it wrote (parses the format, rehashes, compares).
            if (!new DefaultPasswordService().passwordsMatch(password, stored)) {
                System.err.println("Shiro does not verify its own hash for user " + user);
                System.exit(1);
            }
            out.append(user).append(" = ").append(stored);
            if (!roles.isEmpty()) {
                out.append(", ").append(roles);
            }
            out.append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }

    private static void parse(String file) throws Exception {
        Ini ini = Ini.fromResourcePath("file:" + file);
        StringBuilder out = new StringBuilder();
        for (String section : new String[] {"users", "roles"}) {
            Ini.Section s = ini.getSection(section);
            if (s == null) {
                continue;
            }
            for (Map.Entry<String, String> e : s.entrySet()) {
                out.append(section).append('\t').append(e.getKey());
                for (String token : StringUtils.split(e.getValue())) {
                    out.append('\t').append(token);
                }
                out.append('\n');
            }
        }
        System.out.print(out);
        System.out.flush();
    }
}
