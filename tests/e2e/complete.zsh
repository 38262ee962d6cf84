#!/usr/bin/zsh -f
# Prints the completions zsh offers for a command line, one per line as
# "HIT:<word>":  zsh -f complete.zsh FPATH_DIR 'ward scan --max-'
# It runs an interactive zsh in a pseudo-terminal (zsh/zpty) with the
# completion system loaded from FPATH_DIR, types the line and TAB there,
# and has compadd print what the completion functions add.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT='' PS2=''"
zpty -w z "fpath=(${(q)1} \$fpath)"
zpty -w z 'autoload -Uz compinit && compinit -u -D'
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return $?
  fi
  local -a __hits
  builtin compadd -A __hits "$@"
  local __h
  for __h in $__hits; do print -r -- "HIT:$__h"; done
  builtin compadd "$@"
}'
zpty -w z 'comppostfuncs=(__done); __done () { print -r -- "DONE"; exit }'
zpty -w z "zstyle ':completion:*' completer _complete"
zpty -w z "zstyle ':completion:*' menu no"
zpty -w z "bindkey '^I' complete-word"
zpty -w z "print -r -- READY"
# Wait until the setup has run, then type the line and a TAB.
local line
while zpty -r z line; do
  [[ $line == READY* ]] && break
done
zpty -w -n z "$2"$'\t'
while zpty -r z line; do
  line=${line//[$'\r\n']/}
  [[ $line == *DONE* ]] && break
  [[ $line == *HIT:* ]] && print -r -- "HIT:${line##*HIT:}"
done
zpty -d z
