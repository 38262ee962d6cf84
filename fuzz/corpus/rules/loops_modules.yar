import "pe"
import "elf"
rule a { condition: for any s in pe.sections : (s.name == ".text" and s.raw_data_size > 0) }
rule b { condition: for all d in pe.import_details : (for any f in d.functions : (f.name == "Sleep" or f.ordinal == 1)) }
rule c { condition: for 2 k, v in pe.version_info : (k == "CompanyName" and v contains "x") }
rule d { condition: for none g in elf.segments : (for any i in (0..1) : (g.offset == elf.sections[i].offset)) }
rule e { condition: for pe.number_of_sections s in elf.dynsym : (s.name != "" and uint8(s.value) == 0) }
rule f { condition: for any x in pe.import_details[1].functions : (defined x.name) and not for any g in pe.signatures : (g.valid_on(0)) }
