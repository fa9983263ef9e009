# Here-documents: expansion, quoted delimiters, tab stripping, to a loop.
name=world
cat <<EOT
hello $name
sum: $((2 + 3))
command: $(echo substituted)
EOT
cat <<'EOT'
no $expansion here: $name $(echo no)
EOT
cat <<-EOT
	leading tabs are stripped
		even two
	EOT
while read -r first rest; do
	echo "first=$first rest=$rest"
done <<EOT
a b c
d e
EOT
