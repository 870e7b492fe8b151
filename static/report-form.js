/* Progressive enhancement of the report form; the form works without it.
   Draws attention to the emergency notice when an emergency category is
   chosen. No user-facing text lives here. */
( function () {
	'use strict';
	var form = document.querySelector( '.report-form' );
	var notice = document.getElementById( 'emergency-notice' );
	if ( !form || !notice ) {
		return;
	}
	function update() {
		var chosen = form.querySelector( 'input[name="category"]:checked' );
		var emergency = chosen && chosen.closest( '.category-group--emergency' );
		notice.classList.toggle( 'emergency-notice--active', !!emergency );
		if ( emergency ) {
			notice.setAttribute( 'role', 'alert' );
		}
	}
	form.addEventListener( 'change', update );
	update();
}() );
