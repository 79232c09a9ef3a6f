# shellcheck shell=bash
# Fact source "folders" (src/facts/sources/folders.ts): only on uninstall (TP_FOR_UNINSTALL), the
# folders trento-provision may have made for its files (TP_PURGED_FOLDERS), which --purge removes
# once they hold nothing more. For each real folder (not a link): who owns it by rpm ("-" for no
# package: rpm's own words, not its exit code alone, which a damaged database gives too; a folder
# a package owns goes with the package) and what it holds (names, by glob: no process).
if [ "${TP_FOR_UNINSTALL:-0}" = 1 ]; then
  for d in "${TP_PURGED_FOLDERS[@]}"; do
    if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
    owner=
    # stderr silenced outside the substitution (units.sh): rpm says "not owned" on stdout
    if have rpm; then { owner=$(rpm -qf --qf '%{NAME} ' -- "$d"); } 2>/dev/null; fi
    if [[ $owner == *'not owned by any package'* ]]; then owner=-; elif [ -z "${owner// /}" ]; then owner='?'; fi
    entries=
    for e in "$d"/* "$d"/.*; do
      name=${e##*/}
      if [ "$name" = . ] || [ "$name" = .. ]; then continue; fi
      # a glob that matches nothing stays as written: only what is there (a dangling link too)
      if [ -e "$e" ] || [ -L "$e" ]; then entries+=$name$'\n'; fi
    done
    record "folder:$d" "${owner%% }"$'\n'"$entries"
  done
fi
