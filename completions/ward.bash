# bash completion for ward(1)                                -*- shell-script -*-
#
# Installed as share/bash-completion/completions/ward (bash-completion loads
# it on the first `ward <TAB>`); `source completions/ward.bash` works too,
# without bash-completion.  Commands, their subcommands and options, and the
# arguments of options where they are files, directories or fixed words.
# tests/e2e/test_docs_cli.py checks that every option `ward CMD --help`
# prints is completed here.

# The subcommands of `ward CMD` (and of `ward CMD SUB`).
_ward_subcommands()
{
    case "$1${2:+ $2}" in
        '') echo scan rules content key agent quarantine fim fleet version help ;;
        rules) echo compile check ;;
        content) echo build sign verify inspect import-clamav ;;
        key) echo gen ;;
        agent) echo status apply rollback scan except ;;
        'agent except' | 'fleet except') echo add list remove ;;
        quarantine) echo list restore delete ;;
        fim) echo baseline check ;;
        fleet) echo agents revoke unrevoke approve deny token events audit keys \
            publish releases release pause resume abort promote pin unpin pins \
            freeze unfreeze status except ;;
        'fleet token') echo create ;;
        'fleet keys') echo list add remove ;;
    esac
}

# The options of `ward CMD [SUB [SUB2]]`.
_ward_options()
{
    local cmd=$1 sub=$2 sub2=$3
    case $cmd in
        scan)
            echo -r --rules --hashes --compiled -d --define --skip-unsupported \
                --clamav-db --clamav-report --allow-unsigned -t --threads \
                --max-filesize --exclude --follow-symlinks --strict --no-sandbox \
                --no-archive --max-scansize --max-membersize --max-files --max-ratio \
                --max-depth --max-scantime --alert-exceeds-max --alert-encrypted \
                -f --format -m --print-meta -q --quiet -h --help
            ;;
        rules)
            case $sub in
                compile) echo -o --output --hashes -d --define --skip-unsupported -h --help ;;
                check) echo -f --format -d --define -h --help ;;
                *) echo -h --help ;;
            esac
            ;;
        content)
            case $sub in
                build) echo -o --output --clean-corpus --previous --max-slowdown \
                    --reference-corpus --skip-unsupported -h --help ;;
                sign) echo --key -o --output -h --help ;;
                verify) echo --trust --threshold -h --help ;;
                inspect) echo --json -h --help ;;
                import-clamav) echo -o --output --report --allow-unsigned -h --help ;;
                *) echo -h --help ;;
            esac
            ;;
        key)
            case $sub in
                gen) echo --alg --out -h --help ;;
                *) echo -h --help ;;
            esac
            ;;
        agent)
            case $sub in
                status) echo --run-dir --json ;;
                apply | rollback) echo --run-dir ;;
                scan) echo --run-dir --format --quarantine ;;
                except)
                    case $sub2 in
                        add) echo --run-dir --sha256 --path --rule --reason ;;
                        list) echo --run-dir --json ;;
                        *) echo --run-dir ;;
                    esac
                    ;;
                *) echo --run-dir -h --help ;;
            esac
            ;;
        quarantine)
            case $sub in
                list) echo --state-dir --run-dir --json ;;
                restore) echo --state-dir --run-dir --to --except ;;
                delete) echo --state-dir --run-dir ;;
                *) echo --state-dir --run-dir -h --help ;;
            esac
            ;;
        fim)
            case $sub in
                baseline) echo --config --path --exclude --hash --baseline -h --help ;;
                check) echo --config --path --exclude --hash --baseline --json -h --help ;;
                *) echo -h --help ;;
            esac
            ;;
        fleet)
            # The connection's options go before or after the command.
            echo --server --token-file --ca
            case $sub in
                '') echo --json -h --help ;;
                agents | audit | releases | release | pins | status) echo --json ;;
                token) [[ $sub2 == create ]] && echo --group --uses --expires ;;
                events) echo --agent --since --limit ;;
                keys) [[ $sub2 == list ]] && echo --json ;;
                publish) echo --plan ;;
                except)
                    case $sub2 in
                        add) echo --sha256 --path --rule --group --reason ;;
                        list) echo --json ;;
                    esac
                    ;;
            esac
            ;;
    esac
}

# What the argument of option $2 of `ward $1` is: file, dir, path (either),
# prefix (a path prefix: files), words "W..." (one of those words), or
# value (anything: no completion).  Nothing for an option without one.
_ward_optarg()
{
    local cmd=$1 opt=$2
    case $opt in
        -r | --rules | --hashes | --compiled | --key | --trust | --previous | \
            --baseline | --token-file | --ca | --plan | --config)
            echo file ;;
        -o | --output)
            if [[ $cmd == content && $3 == import-clamav ]]; then echo dir; else echo file; fi ;;
        --out) echo prefix ;;
        --clean-corpus | --reference-corpus | --run-dir | --state-dir | --to) echo dir ;;
        --clamav-db) echo path ;;
        --path)
            if [[ $cmd == fim ]]; then echo path; else echo value; fi ;;
        -f | --format) echo 'words text json' ;;
        --alg) echo 'words ed25519 sm2' ;;
        --hash) echo 'words sha256 sm3' ;;
        -d | --define | -t | --threads | --max-filesize | --exclude | --max-scansize | \
            --max-membersize | --max-files | --max-ratio | --max-depth | --max-scantime | \
            --max-slowdown | --threshold | --sha256 | --rule | --reason | --server | \
            --group | --uses | --expires | --agent | --since | --limit)
            echo value ;;
    esac
}

# Fills COMPREPLY with the words of $2 (a kind from _ward_optarg, or
# "positional kind") that start with $1.
_ward_complete_kind()
{
    local cur=$1 kind=$2
    case $kind in
        file | prefix)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
        dir)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            ;;
        path)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
        words\ *)
            mapfile -t COMPREPLY < <(compgen -W "${kind#words }" -- "$cur")
            ;;
        *)
            COMPREPLY=()
            ;;
    esac
}

# What the positional arguments of `ward CMD SUB [SUB2]` are.
_ward_positional()
{
    case "$1 $2" in
        'scan '* | 'rules check' | 'content import-clamav' | 'agent scan') echo path ;;
        'rules compile' | 'content sign' | 'content verify' | 'content inspect' | \
            'agent apply' | 'fleet publish') echo file ;;
        'content build') echo dir ;;
        'fleet keys') [[ $3 == add ]] && echo file ;;
    esac
}

_ward()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev='' opt='' kind
    local cmd='' sub='' sub2='' i w skip=0
    COMPREPLY=()
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

    # An option's argument after '=': bash splits the word there
    # (COMP_WORDBREAKS).
    if [[ $cur == = ]]; then
        opt=$prev
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
        opt=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    # The command words so far, skipping options and their arguments.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((skip)); then
            skip=0
            continue
        fi
        if [[ $w == = ]]; then
            skip=1
            continue
        fi
        if [[ $w == -* ]]; then
            [[ ${COMP_WORDS[i + 1]} != = && -n $(_ward_optarg "$cmd" "$w" "$sub") ]] && skip=1
            continue
        fi
        if [[ -z $cmd ]]; then
            cmd=$w
        elif [[ -z $sub ]]; then
            sub=$w
        elif [[ -z $sub2 ]]; then
            sub2=$w
        fi
    done

    # The argument of an option.
    if [[ -z $opt && $prev == -* ]] && ((COMP_CWORD >= 2)); then
        kind=$(_ward_optarg "$cmd" "$prev" "$sub")
        [[ -n $kind ]] && opt=$prev
    fi
    if [[ -n $opt ]]; then
        _ward_complete_kind "$cur" "$(_ward_optarg "$cmd" "$opt" "$sub")"
        return 0
    fi

    if [[ $cur == -* ]]; then
        if [[ -z $cmd ]]; then
            mapfile -t COMPREPLY < <(compgen -W '--help --version' -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_ward_options "$cmd" "$sub" "$sub2")" -- "$cur")
        fi
        return 0
    fi

    # A subcommand, where one is expected next.
    local words=''
    if [[ -z $cmd ]]; then
        words=$(_ward_subcommands)
    elif [[ -z $sub ]]; then
        words=$(_ward_subcommands "$cmd")
    elif [[ -z $sub2 ]]; then
        words=$(_ward_subcommands "$cmd" "$sub")
    fi
    if [[ -n $words ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
        return 0
    fi

    kind=$(_ward_positional "$cmd" "$sub" "$sub2")
    [[ -n $kind ]] && _ward_complete_kind "$cur" "$kind"
    return 0
}

complete -F _ward ward
