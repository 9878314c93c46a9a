/*
 * JaasVectors: records the exact behaviour of the JDK's
 * javax.security.auth.login.LoginContext over chains of scripted login
 * modules, as JSON-lines test vectors (written to standard output).
 *
 * Method
 * ------
 * For every chain we:
 *   1. reset a static call log,
 *   2. build a Configuration that returns, for the application name
 *      "vectors", one AppConfigurationEntry per module of the chain: the class
 *      name of ScriptedModule, the module's control flag and the options
 *      {"id": "<index>", "login": "S|I|F", "commit": "S|F"},
 *   3. create new LoginContext("vectors", subject, no-op handler, config)
 *      with a fresh Subject,
 *   4. call lc.login(), catching LoginException,
 *   5. emit one JSON object: the chain, the outcome, the error message thrown
 *      to the caller, the call log and the principals left in the Subject.
 *
 * LoginContext itself instantiates the modules (lazily, by class name, via the
 * thread's context class loader), so ScriptedModule must be a public static
 * nested class with a public no-arg constructor and the program must be run
 * from a class path (java -cp DIR JaasVectors).
 *
 * Scripted module semantics (see README.md)
 * -----------------------------------------
 *   login():  log "L<id>".  S: loginSucceeded = true, return true.
 *                           I: return false.
 *                           F: throw new LoginException("login:" + id).
 *   commit(): log "C<id>".  commit script F: throw
 *                           new LoginException("commit:" + id) (whatever
 *                           happened in login). Otherwise: if loginSucceeded,
 *                           add principal "m<id>" to the Subject and return
 *                           true; else return false.
 *   abort():  log "A<id>".  Remove principal "m<id>" if present; return
 *                           loginSucceeded. Never throws.
 *   logout(): log "O<id>".  Return true.
 *
 * Chains
 * ------
 *   Set 1: lengths 1..4, every flag x login script {S,I,F}, commit always S.
 *   Set 2: lengths 1..3, every flag x login script x commit script {S,F}.
 * Set 1 is emitted first, then Set 2. Within a set: by length, then
 * lexicographically over the modules (module 0 most significant), each module
 * ordered by flag (REQUIRED, REQUISITE, SUFFICIENT, OPTIONAL), then login
 * script (S, I, F), then commit script (S, F).
 *
 * The output is deterministic: no timestamps, no hash-ordered collections.
 */

import java.security.Principal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.AppConfigurationEntry.LoginModuleControlFlag;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import javax.security.auth.spi.LoginModule;

public class JaasVectors {

    /** Application name used for every LoginContext. */
    static final String APP_NAME = "vectors";

    /** Control flags in output order, with their names for the JSON. */
    static final LoginModuleControlFlag[] FLAGS = {
        LoginModuleControlFlag.REQUIRED,
        LoginModuleControlFlag.REQUISITE,
        LoginModuleControlFlag.SUFFICIENT,
        LoginModuleControlFlag.OPTIONAL,
    };
    static final String[] FLAG_NAMES = {"REQUIRED", "REQUISITE", "SUFFICIENT", "OPTIONAL"};

    /** Login scripts in output order. */
    static final String[] LOGIN_SCRIPTS = {"S", "I", "F"};

    /** Commit scripts in output order. Set 1 uses only the first one ("S"). */
    static final String[] COMMIT_SCRIPTS = {"S", "F"};

    // ------------------------------------------------------------------
    // The call log, shared by all module instances of the current chain.
    // ------------------------------------------------------------------

    static final List<String> CALLS = new ArrayList<>();

    // ------------------------------------------------------------------
    // A minimal Principal: identified by its name.
    // ------------------------------------------------------------------

    public static final class NamedPrincipal implements Principal {
        private final String name;

        public NamedPrincipal(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof NamedPrincipal && ((NamedPrincipal) o).name.equals(name);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    // ------------------------------------------------------------------
    // The scripted login module. LoginContext instantiates it by name.
    // ------------------------------------------------------------------

    public static final class ScriptedModule implements LoginModule {
        private Subject subject;
        private String id;
        private String loginScript;   // "S", "I" or "F"
        private String commitScript;  // "S" or "F"
        private boolean loginSucceeded = false;

        public ScriptedModule() {
        }

        @Override
        public void initialize(Subject subject, CallbackHandler callbackHandler,
                               Map<String, ?> sharedState, Map<String, ?> options) {
            this.subject = subject;
            this.id = (String) options.get("id");
            this.loginScript = (String) options.get("login");
            this.commitScript = (String) options.get("commit");
        }

        @Override
        public boolean login() throws LoginException {
            CALLS.add("L" + id);
            switch (loginScript) {
                case "S":
                    loginSucceeded = true;
                    return true;
                case "I":
                    return false;
                case "F":
                    throw new LoginException("login:" + id);
                default:
                    throw new IllegalStateException("bad login script " + loginScript);
            }
        }

        @Override
        public boolean commit() throws LoginException {
            CALLS.add("C" + id);
            if (commitScript.equals("F")) {
                // Fails even if login() was never called or failed.
                throw new LoginException("commit:" + id);
            }
            if (loginSucceeded) {
                subject.getPrincipals().add(new NamedPrincipal("m" + id));
                return true;
            }
            return false;
        }

        @Override
        public boolean abort() {
            CALLS.add("A" + id);
            subject.getPrincipals().remove(new NamedPrincipal("m" + id));
            return loginSucceeded;
        }

        @Override
        public boolean logout() {
            CALLS.add("O" + id);
            return true;
        }
    }

    // ------------------------------------------------------------------
    // One module of a chain, and the Configuration built from a chain.
    // ------------------------------------------------------------------

    /** A module of a chain: indices into FLAGS, LOGIN_SCRIPTS, COMMIT_SCRIPTS. */
    static final class Module {
        final int flag, login, commit;

        Module(int flag, int login, int commit) {
            this.flag = flag;
            this.login = login;
            this.commit = commit;
        }
    }

    /** Configuration returning one entry per module for APP_NAME only. */
    static final class ChainConfiguration extends Configuration {
        private final AppConfigurationEntry[] entries;

        ChainConfiguration(List<Module> chain) {
            entries = new AppConfigurationEntry[chain.size()];
            for (int i = 0; i < chain.size(); i++) {
                Module m = chain.get(i);
                // LinkedHashMap only for a stable, readable option order.
                Map<String, String> options = new LinkedHashMap<>();
                options.put("id", Integer.toString(i));
                options.put("login", LOGIN_SCRIPTS[m.login]);
                options.put("commit", COMMIT_SCRIPTS[m.commit]);
                entries[i] = new AppConfigurationEntry(
                        ScriptedModule.class.getName(), FLAGS[m.flag], options);
            }
        }

        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            return APP_NAME.equals(name) ? entries.clone() : null;
        }
    }

    /** A callback handler that is never expected to be used. */
    static final CallbackHandler NO_OP_HANDLER = (Callback[] callbacks) -> { };

    // ------------------------------------------------------------------
    // Running one chain and formatting the vector.
    // ------------------------------------------------------------------

    static String runChain(List<Module> chain) {
        CALLS.clear();
        Subject subject = new Subject();
        Configuration config = new ChainConfiguration(chain);

        String result;
        String error;
        try {
            LoginContext lc = new LoginContext(APP_NAME, subject, NO_OP_HANDLER, config);
            lc.login();
            result = "success";
            error = null;
        } catch (LoginException e) {
            result = "failure";
            error = e.getMessage();
        }

        // Principal names left in the subject, sorted.
        List<String> names = new ArrayList<>();
        for (Principal p : subject.getPrincipals()) {
            names.add(p.getName());
        }
        Collections.sort(names);

        StringBuilder flags = new StringBuilder();
        StringBuilder login = new StringBuilder();
        StringBuilder commit = new StringBuilder();
        for (int i = 0; i < chain.size(); i++) {
            Module m = chain.get(i);
            if (i > 0) {
                flags.append(',');
            }
            flags.append(FLAG_NAMES[m.flag]);
            login.append(LOGIN_SCRIPTS[m.login]);
            commit.append(COMMIT_SCRIPTS[m.commit]);
        }

        // Keys in fixed order, no spaces.
        return "{\"flags\":" + jsonString(flags.toString())
                + ",\"login\":" + jsonString(login.toString())
                + ",\"commit\":" + jsonString(commit.toString())
                + ",\"result\":" + jsonString(result)
                + ",\"error\":" + (error == null ? "null" : jsonString(error))
                + ",\"calls\":" + jsonString(String.join(" ", CALLS))
                + ",\"subject\":" + jsonString(String.join(",", names))
                + "}";
    }

    /** Minimal JSON string encoder (quotes, backslashes, control characters). */
    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }

    // ------------------------------------------------------------------
    // Enumerating chains.
    // ------------------------------------------------------------------

    /**
     * Emits every chain of the given length whose modules range over all
     * flags, all login scripts and the first commitCount commit scripts, in
     * lexicographic order (module 0 most significant; within a module: flag,
     * then login, then commit).
     */
    static void emitChains(StringBuilder out, int length, int commitCount) {
        // Per-module choices in order: flag slowest, commit fastest.
        List<Module> choices = new ArrayList<>();
        for (int f = 0; f < FLAGS.length; f++) {
            for (int l = 0; l < LOGIN_SCRIPTS.length; l++) {
                for (int c = 0; c < commitCount; c++) {
                    choices.add(new Module(f, l, c));
                }
            }
        }
        int[] digits = new int[length];  // mixed-radix counter over choices
        while (true) {
            List<Module> chain = new ArrayList<>(length);
            for (int d : digits) {
                chain.add(choices.get(d));
            }
            out.append(runChain(chain)).append('\n');

            // Increment, last module fastest.
            int pos = length - 1;
            while (pos >= 0 && ++digits[pos] == choices.size()) {
                digits[pos] = 0;
                pos--;
            }
            if (pos < 0) {
                return;
            }
        }
    }

    public static void main(String[] args) {
        // LoginContext loads modules through the context class loader; make
        // sure it is the loader that loaded this class.
        Thread.currentThread().setContextClassLoader(JaasVectors.class.getClassLoader());

        StringBuilder out = new StringBuilder();
        // Set 1: lengths 1..4, commit always "S".
        for (int length = 1; length <= 4; length++) {
            emitChains(out, length, 1);
        }
        // Set 2: lengths 1..3, commit "S" or "F".
        for (int length = 1; length <= 3; length++) {
            emitChains(out, length, COMMIT_SCRIPTS.length);
        }
        System.out.print(out);
        System.out.flush();
    }
}
