/*
 * ward's starter rules: a few widely seen kinds of Linux server
 * compromise.  Extend them with your own bundle, not by editing these.
 */

rule PHP_Webshell_Eval : webshell
{
    meta:
        description = "PHP code that evaluates what the request sent"
    strings:
        $php = "<?php" nocase
        $eval = /(eval|assert|system|passthru)\s*\(\s*(base64_decode\s*\()?\s*\$_(GET|POST|REQUEST|COOKIE)/ nocase
    condition:
        $php and $eval
}

rule Reverse_Shell_Oneliner : shell
{
    meta:
        description = "bash reverse shell through /dev/tcp"
    strings:
        $tcp = /bash\s+-i\s+>&\s*\/dev\/tcp\/[0-9.]+\/[0-9]+/
    condition:
        $tcp
}

rule ELF_With_Miner_Pool : miner
{
    meta:
        description = "ELF binary that names a stratum mining pool"
    strings:
        $stratum = "stratum+tcp://" ascii wide
        $xmrig = "xmrig" nocase fullword
    condition:
        uint32(0) == 0x464c457f and any of them
}
