"""Error-golden cases whose golden holds the CORRECT output, which the compiler does not give yet.

Each entry maps a case name (a file `tests/errors/<name>.yaml` or a directory
`tests/errors/<name>/`) to the compiler bug it exposes. `test_errors.py` runs
these cases as `xfail(strict=True)`: fixing the bug makes the case pass, the
xfail then fails as XPASS, and the entry must be deleted from here.
`--update-goldens` never rewrites these goldens.
"""

from __future__ import annotations

KNOWN_FAILURES: dict[str, str] = {
    # --- meta-schema wording (frontend/schema_check.py, _word) ---
    "bit_field_key_typo":
        "VG0201 for a misspelt required bit-field key ('bit') is the oneOf fallback: a Python dict repr of the "
        "whole 'fields' mapping, 'is not valid under any of the given schemas', located at the start of the 'fields' mapping; expected "
        "\"unknown key 'bit' ...; did you mean 'bits'?\" at the key (regression since 'fields' became a oneOf "
        "for field_sets)",
    "restore_step_key_typo":
        "VG0201 for a misspelt restore-step key ('whit') is the oneOf fallback: a Python dict repr and 'is not "
        "valid under any of the given schemas'; expected \"unknown key 'whit' at /restore/0; did you mean "
        "'with'?\" at the key",
    "meta_unknown_key_typo":
        "a misspelt required key ('acess') is reported as \"missing required key 'access'\" at the register, "
        "so the did-you-mean message never fires for the most common typo; expected \"unknown key 'acess' ...; "
        "did you mean 'access'?\" at the misspelt key",
    # --- YAML loader ---
    "yaml_syntax_unclosed_flow":
        "a flow mapping missing its '}' is reported at the next line (where libyaml noticed) with PyYAML's "
        "context dropped; expected a note at the '{' that opens the unclosed mapping ('while parsing a flow "
        "mapping')",
    # --- resolve ---
    "enum_named_like_register":
        "the note says 'first defined here' but points at the register, which is defined after the enum "
        "(symbols are built registers first, whatever the file order); expected \"register 'control' is "
        "defined here\"",
    "undefined_enum":
        "VG0302 for an undefined enum name points at the bit field's key ('mmc') instead of at the enum name "
        "it reports ('vector')",
    # --- typecheck ---
    "logical_not_on_mask":
        "x & (!MASK) gives VG0604 and also a cascading VG0602 \"'&' needs integer operands, but this is bool; "
        "use '&&'\" at the same '!': the hint is wrong (the fix is '~', as VG0604 says); expected VG0604 only",
    # --- layout ---
    "offset_from_wide_register":
        "VG0408 for an offset over a 32-bit register says \"offset of 'doorbell' has no value: 'locator' has "
        "no value here\": the evaluator's internal wording, which does not say why (registers wider than "
        "12 bits are not enumerated) nor what to do; expected the reason and the rule",
    "array_max_beyond_u8_length":
        "VG0506 points at 'type: array' (two lines above) instead of at the 'max: 300' it reports",
    "compat_target_ge_on_bool":
        "VG0516 for target_ge on a bool says it \"needs a bit set or an integer\", but target_ge takes integers "
        "only (on bytes it is VG0516 \"'target_ge' orders integers\"); expected that wording",
    "register_default_not_enum_value":
        "the default of a register with 'enum:' is not checked against the enum (VG0513 fires for state "
        "fields only): default 4 of a power_state register is accepted, exit 0",
    # --- devices ---
    "device_param_bool_for_integer":
        "a device binds 'true' to a u16 param and it is accepted as 1 (exit 0); expected VG0702 "
        "(ill-typed device parameter)",
}
