<?php
// a page that evaluates nothing it was sent
echo htmlspecialchars($_GET['name'] ?? 'world');
