include "x.yar"
import "pe"
rule r { strings: $a = "a" xor condition: $a }
