/* Progressive enhancement of the receipt: a button that copies the case reference.
   Without JavaScript (or without the Clipboard API) the button stays hidden and the
   reference is plain, selectable text. Its words come from the page (data-* attributes). */
( function () {
	'use strict';
	var button = document.getElementById( 'copy-reference' );
	var status = document.getElementById( 'copy-reference-status' );
	if ( !button || !status || !navigator.clipboard || !window.isSecureContext ) {
		return;
	}
	var target = document.getElementById( button.dataset.copy );
	button.hidden = false;
	button.addEventListener( 'click', function () {
		navigator.clipboard.writeText( target.textContent.trim() ).then( function () {
			status.textContent = status.dataset.copied;
		}, function () {
			status.textContent = status.dataset.failed;
		} );
	} );
}() );
