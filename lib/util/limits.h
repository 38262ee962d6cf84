/*
 * limits: every named limit of libward, each with the reason it exists.
 * Inputs that exceed one are refused with WARD_ELIMIT and a message that
 * names the limit; they are never truncated silently.
 */
#ifndef WARD_UTIL_LIMITS_H
#define WARD_UTIL_LIMITS_H

/* Rule source files: a rule file larger than this is not a rule file. */
#define WARD_MAX_RULE_FILE_SIZE (64u * 1024 * 1024)
/* include nesting, as YARA's YR_MAX_INCLUDE_DEPTH: stops include cycles. */
#define WARD_MAX_INCLUDE_DEPTH 16
/* Rules in one rule set: bounds compile time and memory. */
#define WARD_MAX_RULES 200000
/* Strings in one rule set (each becomes a Vectorscan expression). */
#define WARD_MAX_STRINGS 1000000
/* Strings in one rule, as YARA's YR_MAX_STRINGS_PER_RULE. */
#define WARD_MAX_STRINGS_PER_RULE 10000
/* Identifier length (rule names, string ids, externals, tags). */
#define WARD_MAX_IDENTIFIER 128
/* Bytes in one text string, hex string or regexp after escapes. */
#define WARD_MAX_STRING_BYTES 4096
/* Source characters of one hex string or regexp. */
#define WARD_MAX_PATTERN_SOURCE 65536
/* Nodes in one hex/regexp pattern tree: bounds the verifier program. */
#define WARD_MAX_PATTERN_NODES 8192
/* Instructions of one pattern's verifier program (repeats are expanded, as
 * YARA's RE_MAX_CODE_SIZE bounds its code): bounds the verifier's stack. */
#define WARD_MAX_PATTERN_PROG 16384
/* Bounded repeats up to this are kept in Vectorscan expressions; larger ones
 * become unbounded (a superset) to keep the database small. */
#define WARD_MAX_HS_REPEAT 255
/* Nesting of groups and alternatives in hex strings and regexps. */
#define WARD_MAX_PATTERN_DEPTH 64
/* Repetition bound {n,m} in regexps, as YARA's RE_MAX_RANGE. */
#define WARD_MAX_REPEAT 32767
/* Longest match a hex string or regexp can report, as YARA's
 * YR_RE_SCAN_LIMIT: a pattern's match is searched this far from its start. */
#define WARD_RE_SCAN_LIMIT 4096
/* Matches kept per string per file, as YARA's YR_MAX_STRING_MATCHES. */
#define WARD_MAX_STRING_MATCHES 1000000
/* Nesting of parentheses and operators in a condition (parser recursion). */
#define WARD_MAX_EXPR_DEPTH 128
/* Operands in one chain of same-precedence operators (a or b or c ...):
 * the tree is as deep as the chain and the compiler recurses over it. */
#define WARD_MAX_EXPR_CHAIN 4096
/* Bytes of condition bytecode per rule. */
#define WARD_MAX_CODE_BYTES (1u << 20)
/* Evaluation stack slots of the condition machine (checked by the verifier). */
#define WARD_MAX_STACK 256
/* Nesting of for/of loops in one condition (loop variable slots). */
#define WARD_MAX_LOOP_DEPTH 4
/* Items a `for ... in` loop over a module's array or dictionary runs over:
 * the largest any module holds (WARD_MAX_ELF_SYMBOLS), so that a loop
 * never stops short of YARA's; the step limit bounds nested loops. */
#define WARD_MAX_LOOP_ITEMS (1u << 20)
/* Variables of one `for` loop: YARA's YR_MAX_LOOP_VARS (a dictionary's
 * key and value). */
#define WARD_MAX_LOOP_VARS 2
/* Instructions one condition may execute on one file: ends any evaluation. */
#define WARD_MAX_EVAL_STEPS (1ull << 32)
/* Tags per rule, metadata entries per rule. */
#define WARD_MAX_TAGS 64
#define WARD_MAX_META 256
/* External variables given with -d. */
#define WARD_MAX_EXTERNALS 1024
/* Bytes of one external string value. */
#define WARD_MAX_EXTERNAL_STRING 4096
/* A compiled rule set file: bounds what the loader reads. */
#define WARD_MAX_COMPILED_SIZE (1u << 30)
/* Hash signatures in one rule set, and the length of a signature name. */
#define WARD_MAX_HASH_SIGS 10000000
#define WARD_MAX_SIG_NAME 256
/* Bytes of one hash list line. */
#define WARD_MAX_HASH_LINE 1024

/* Payload bytes of one frame between wardd's processes (lib/util/ipc.h):
 * frames carry small typed structs; anything larger travels as a sealed
 * memory file beside the frame, never through the socket. */
#define WARD_MAX_IPC_PAYLOAD (64u * 1024)

/* Scanner worker threads (--threads): more than any machine ward runs on. */
#define WARD_MAX_THREADS 1024
/* Items in the scan pool's queue: bounds the walker's lead over the workers. */
#define WARD_MAX_POOL_QUEUE (1u << 20)
/* Bytes of one pool queue item (items are small structs copied by value). */
#define WARD_MAX_POOL_ITEM 65536
/* Files `ward scan` (run as root) hands its sandboxed scanner ahead of
 * their acknowledgement: each is a descriptor open in both processes. */
#define WARD_MAX_SCAN_WINDOW 1024
/* Deaths of `ward scan`'s sandboxed scanner after which the scan gives up:
 * a scanner that dies on every file is at fault, not the files. */
#define WARD_MAX_SCAN_CRASHES 64

/* --- The fleet protocol: what an agent may send the server (and back) --- */

/* Bytes of a check-in report: today's reports are about 3 KiB; this leaves
 * room for growth and bounds what one agent makes the server parse. */
#define WARD_MAX_CHECKIN_BYTES (64u * 1024)
/* Versions an agent lists as refused, and crashes it lists: the agent
 * keeps 32 and 64 (lib/content/store.h); a longer list is not an agent's. */
#define WARD_MAX_REPORT_REFUSALS 32
#define WARD_MAX_REPORT_CRASHES 64
/* Bytes of one string in a report (a refusal's reason, a warning). */
#define WARD_MAX_REPORT_REASON 512
/* Nesting and members of the display-only parts of a report (sensor
 * counters, the uplink's state): generous for what agents send. */
#define WARD_MAX_REPORT_DEPTH 4
#define WARD_MAX_REPORT_ITEMS 64
/* An agent's journal id (it makes 32 hex digits). */
#define WARD_MAX_JOURNAL_ID 64
/* Bytes of an enrollment request: five short strings and a proof. */
#define WARD_MAX_ENROLL_BYTES (4u * 1024)
/* Bytes of one event an agent uploads (events are about 1 KiB); a larger
 * one is stored as a stub that says how large it was. */
#define WARD_MAX_EVENT_BYTES (64u * 1024)
/* Bytes of one event upload: the agent sends batches of at most 4 MiB of
 * events (agent/uplink.c); this leaves room for the JSON around them. */
#define WARD_MAX_EVENTS_BODY (8u * 1024 * 1024)

/* Bytes of the head (status line, headers, trailers) of a bundle download
 * answer: a real one is a few hundred; bounds what a server makes us parse. */
#define WARD_MAX_DOWNLOAD_HEAD (64u * 1024)
/* Body bytes of a download answer that is not stored (an error's JSON),
 * read so that the connection can be reused, and no more. */
#define WARD_MAX_DOWNLOAD_JUNK (64u * 1024)

/* Random names tried for one temporary file before giving up: each try is a
 * fresh 64-bit name, so more than one is needed only when someone has been
 * making names in the directory ahead of us. */
#define WARD_MAX_TMP_TRIES 16
/* Directories above a state directory that its check walks up through
 * (PATH_MAX allows no more). */
#define WARD_MAX_DIR_DEPTH 4096
/* /proc/self/mountinfo read whole: about 150 bytes a mount, so room for
 * hundreds of thousands of mounts (container hosts), bounded all the same. */
#define WARD_MAX_MOUNTINFO (64u * 1024 * 1024)
/* Files of a FIM baseline walked but not hashed yet: enough to keep every
 * hashing thread busy; the walk waits beyond it. */
#define WARD_MAX_FIM_QUEUE 4096
/* Directories a FIM baseline keeps open only for files of theirs still to
 * be hashed (beyond those the walk is in): bounds its descriptors well
 * under the usual limit of 1024; the walk waits beyond it. */
#define WARD_MAX_FIM_OPEN_DIRS 256
/* Files the real-time FIM remembers for its catch-up after a restart
 * (agent/fimstate.h): about 100 bytes each in memory, so tens of MiB at
 * most; files beyond it are watched live but not caught up on. */
#define WARD_MAX_FIM_STATE_ENTRIES (256u * 1024)
/* The FIM state file read at a start: the entries above (about 120 bytes
 * each with a usual path) with their appended changes, bounded all the
 * same (a larger one is not read; a whole is cut at half of it). */
#define WARD_MAX_FIM_STATE_BYTES (128u * 1024 * 1024)
/* A FIM baseline file (`ward fim baseline`): a line per file, some 200
 * bytes, so millions of files; and one line's path or link target,
 * escaped (each byte at most two). */
#define WARD_MAX_FIM_BASELINE_BYTES ((size_t)1 << 30)
#define WARD_MAX_FIM_BASELINE_FIELD (2 * 4096)
/* Longest duration (30m, 12h, 7d ...) anything accepts: 100 years, far
 * beyond any token or lease, so that now + a duration stays far inside a
 * 64-bit time and never wraps into the past. */
#define WARD_MAX_DURATION_S (100LL * 366 * 86400)

/* --- Exceptions to verdicts (lib/scan/except.h) --- */

/* Exceptions of one source (the agent's own list, a content bundle's
 * members together, the fleet's list for one agent): every detection is
 * checked against each list, so they stay short enough to be read through. */
#define WARD_MAX_EXCEPTIONS 1024
/* Exceptions in wardd.yaml (`exceptions:`); more go in with `ward agent
 * except add`, which keeps them in STATE_DIR. */
#define WARD_MAX_CONFIG_EXCEPTIONS 64
/* Bytes of one path glob: matching costs up to glob x path steps, so the
 * glob is bounded well under PATH_MAX (no real glob comes near it). */
#define WARD_MAX_EXCEPT_GLOB 512
/* Bytes of an exception's reason (a ticket, a name: for people only). */
#define WARD_MAX_EXCEPT_REASON 256
/* Bytes of who added a fleet exception (the server's token name). */
#define WARD_MAX_EXCEPT_BY 64
/* Bytes of an exception's text form ("rule:NAME path:GLOB"): the longest
 * name and glob with their keys. */
#define WARD_MAX_EXCEPT_TEXT (WARD_MAX_SIG_NAME + WARD_MAX_EXCEPT_GLOB + 16)
/* Bytes of a JSON text of exceptions (a bundle member, the agent's state
 * file, the fleet's list in a check-in answer): the most exceptions with
 * the longest fields, and room for the JSON around them. */
#define WARD_MAX_EXCEPT_JSON (2u * 1024 * 1024)

/* --- Rule modules (lib/modules/) --- */

/* Section headers the pe module reads: YARA's MAX_PE_SECTIONS, so that
 * pe.sections and pe.rva_to_offset answer as YARA does. */
#define WARD_MAX_PE_SECTIONS 96
/* Imported functions (all DLLs together) and import descriptors the pe
 * module walks: YARA's MAX_PE_IMPORTS.  The delay-load imports, which YARA
 * walks unbounded, are held to the same. */
#define WARD_MAX_PE_IMPORTS 16384
/* Exports listed: YARA's MAX_PE_EXPORTS. */
#define WARD_MAX_PE_EXPORTS 8192
/* Bytes of an import or export function name: YARA's 512. */
#define WARD_MAX_PE_FN_NAME 512
/* Bytes of a DLL name, an export's dll_name or a section's full name, which
 * YARA reads to the end of the file: no real one comes near it. */
#define WARD_MAX_PE_NAME 4096
/* Resources listed: YARA's MAX_RESOURCES + 1 (it stops after index 65536). */
#define WARD_MAX_PE_RESOURCES 65537
/* Resource directory entries visited in all: three levels of up to 32768
 * entries each could make 2^45 visits; real files have thousands, and the
 * listed resources stop at 65537. */
#define WARD_MAX_PE_RESOURCE_VISITS (1u << 18)
/* Bytes of the UTF-16 resource names kept in all (each up to 128 KiB, and
 * 65537 resources could name one each); names past it are undefined. */
#define WARD_MAX_PE_RESOURCE_STRINGS (16u * 1024 * 1024)
/* Version-info strings kept, and version-info records walked for them over
 * all version resources (each walk is bounded by the file, but a file can
 * point 65537 resources at one large table); real files have dozens. */
#define WARD_MAX_PE_VERSION_INFOS 4096
#define WARD_MAX_PE_VERSION_STEPS (1u << 16)
/* Bytes searched for the end of a version-info UTF-16 key or value, which
 * YARA searches to the end of the file; keys and values are short. */
#define WARD_MAX_PE_VERSION_WSTR 4096
/* Authenticode signer certificates listed: YARA's MAX_PE_CERTS. */
#define WARD_MAX_PE_SIGNATURES 16
/* Bytes of a PE certificate table copied for OpenSSL to decode (real ones
 * are tens of KiB), and signatures nested in signatures. */
#define WARD_MAX_PE_CERT_TABLE (8u * 1024 * 1024)
#define WARD_MAX_PE_SIG_DEPTH 8
/* Bytes of a rich signature (DanS to Rich): a few hundred in real files,
 * but YARA would take everything between the DOS header and the NT headers. */
#define WARD_MAX_PE_RICH (64u * 1024)
/* Bytes of a pdb_path: YARA's MAX_PATH (a path of 260 or more is not set). */
#define WARD_MAX_PE_PDB_PATH 260

/* ELF symbols held per table (symtab, dynsym): a large unstripped library
 * has a few hundred thousand; more are counted but left undefined, so that
 * a file cannot make the parse hold a table the size of itself. */
#define WARD_MAX_ELF_SYMBOLS (1u << 20)
/* ELF dynamic entries read over all PT_DYNAMIC segments together: real
 * files have under a hundred; the walk stops at a DT_NULL or this. */
#define WARD_MAX_ELF_DYNAMIC (1u << 16)
/* Bytes of one ELF section or symbol name (long C++ names run to a few
 * KiB); a longer one is left undefined, and no name lookup reads more. */
#define WARD_MAX_ELF_NAME 16384
/* Bytes of all ELF names held together, with their NULs. */
#define WARD_MAX_ELF_NAME_BYTES (64u * 1024 * 1024)
/* Bytes of string tables read looking for the ends of ELF names: a
 * million symbols naming one long unterminated string would otherwise cost
 * a million times WARD_MAX_ELF_NAME. */
#define WARD_MAX_ELF_NAME_SCAN (256u * 1024 * 1024)

/* clamd-compatible socket (agent/clamd.c, lib/proto/clamdproto.c). */
/* Bytes of one clamd command with its prefix and terminator: a path of
 * PATH_MAX bytes and the longest command name fit. */
#define WARD_MAX_CLAMD_COMMAND (4096 + 32)

/* ClamAV signature databases (lib/clamav/clamdb.h). */
/* Bytes of one database file or .cvd container read: the largest official
 * one (main.cvd) is under 200 MiB. */
#define WARD_MAX_CLAMDB_FILE (512u * 1024 * 1024)
/* Bytes of one database line: ClamAV's own CLI_DEFAULT_LSIG_BUFSIZE. */
#define WARD_MAX_CLAMDB_LINE 32768
/* Subsignatures of one logical signature: ClamAV's MAX_LDB_SUBSIGS. */
#define WARD_MAX_CLAMDB_SUBSIGS 64
/* Signatures read from all databases of one import: main + daily hold
 * about 8 million. */
#define WARD_MAX_CLAMDB_SIGS 20000000
/* Bytes of the tar body of a .cvd/.cld once decompressed, and its members:
 * bounds what a hostile container can make us hold. */
#define WARD_MAX_CLAMDB_BODY (1024u * 1024 * 1024)
#define WARD_MAX_CLAMDB_MEMBERS 256
/* The ClamAV functionality level ward converts for: that of ClamAV 1.4.6,
 * the reference its conversions are checked against (clamconf: "Engine
 * flevel: 216"). */
#define WARD_CLAMDB_FLEVEL 216
/* Containers (lib/scan/container.c): archives and compressed files.  The
 * CONTAINER_SCAN_* values are `ward scan`'s defaults, clamscan's
 * (MaxScanSize, MaxFileSize, MaxFiles, MaxScanTime) where it has one; the
 * CONTAINER_AGENT_* ones the agent's, whose on-access scans hold a
 * process's open() while they run. */
/* Bytes extracted from one file on disk, all members at all depths. */
#define WARD_CONTAINER_SCAN_TOTAL (400ull * 1024 * 1024)
#define WARD_CONTAINER_AGENT_TOTAL (64ull * 1024 * 1024)
/* Bytes of one member: each is held whole in a memory file to be scanned. */
#define WARD_CONTAINER_SCAN_MEMBER (100ull * 1024 * 1024)
#define WARD_CONTAINER_AGENT_MEMBER (32ull * 1024 * 1024)
/* Members of one file on disk, at all depths (each costs a scan). */
#define WARD_CONTAINER_SCAN_FILES 10000u
#define WARD_CONTAINER_AGENT_FILES 1000u
/* Bytes extracted per byte read of a container: deflate of zeros gives
 * ~1000, real data rarely over 100; a bomb stops at its first MiBs. */
#define WARD_CONTAINER_SCAN_RATIO 250u
#define WARD_CONTAINER_AGENT_RATIO 100u
/* The ratio is only judged past this many extracted bytes: small members
 * of text compress well and cost nothing. */
#define WARD_CONTAINER_RATIO_FLOOR (1024u * 1024)
/* Containers within containers (the file on disk is depth 0). */
#define WARD_CONTAINER_SCAN_DEPTH 8u
#define WARD_CONTAINER_AGENT_DEPTH 4u
/* Milliseconds for one file on disk and everything inside it. */
#define WARD_CONTAINER_SCAN_TIME_MS 120000u
#define WARD_CONTAINER_AGENT_TIME_MS 5000u
/* The largest depth a user may ask for: the member chain is an array. */
#define WARD_CONTAINER_MAX_DEPTH 64u
/* Bytes of one member name kept (longer ones are cut): names are shown. */
#define WARD_CONTAINER_MAX_NAME 1024u
/* Bytes read from a container at a time (one buffer per open level). */
#define WARD_CONTAINER_READ_BLOCK (64u * 1024)

/* The agent's worker: descriptors it may hold (its soft limit is raised to
 * this, or to the hard limit if lower).  Each file in flight holds one:
 * fanotify events, ward agent scan's files and the clamd socket's walks
 * (up to clamd.max_connections of them at once). */
#define WARD_WORKER_NOFILE 65536

/* Hex alternatives that spell out one ClamAV negated alternative (what is
 * none of them) where a regexp cannot hold the signature: a two-byte one
 * of a few alternatives takes about 1 000; bounds the rule's size. */
#define WARD_MAX_CLAMDB_NALT_HEX 2048

/* Bytes of the rule text one ClamAV signature becomes (a logical one with
 * 64 subsignatures of long hex fits many times over), and of all the rule
 * text of one import: a few database bytes can say much rule text (a
 * boundary anchor is an alternative of ~200 bytes, a PCRE trigger copies
 * an expression), so both are bounded before they are held. */
#define WARD_MAX_CLAMDB_SIG_TEXT (1024u * 1024)
#define WARD_MAX_CLAMDB_TEXT (1024ull * 1024 * 1024)

#endif
