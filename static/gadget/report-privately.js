/*
 * "Report privately": the on-wiki half of the private incident-reporting tool.
 *
 * For logged-in users it adds one link to the page's tools. The link opens the
 * tool's report form with what this page is already filled in: the wiki, the
 * page, the diff or the revision on screen, and the user whose page or
 * contributions these are. The gadget itself sends nothing and loads nothing:
 * no data leaves the wiki until the user follows the link (the wiki's
 * Content-Security-Policy forbids loading code or data from the tool anyway).
 *
 * This file is the readable source. `flask --app app reporting gadget build`
 * fills in the tool's address and the messages (reporting-gadget-link and
 * reporting-gadget-tooltip of the tool's i18n/ files) and writes the page the
 * wiki hosts, MediaWiki:Gadget-report-privately.js. Edit this file, not the
 * built page: translations are made on translatewiki.net, like the tool's.
 *
 * Only dependency: mediawiki.util (for addPortletLink). Budget: 2 KB gzip per
 * page view, messages of every language included (`make bench` measures it).
 */
( function () {
	'use strict';

	// Filled in by the build.
	var TOOL = '__TOOL_URL__';
	// Language code -> [ link text, tooltip ], for the languages with their own messages.
	var MESSAGES = __MESSAGES__;
	// Language of MESSAGES -> the space-separated codes that fall back to it. Only
	// the codes whose answer differs from what their first subtag gets (de-at gets
	// what de gets) are listed; the build checks that every MediaWiki language
	// ends up where MediaWiki's fallback chain takes it, English by default.
	var FALLBACKS = __FALLBACKS__;

	// The first portlet that exists takes the link: the page actions of Vector 2022,
	// legacy Vector, MonoBook and Timeless; Minerva's overflow menu, or its main menu
	// on the pages that have no overflow menu (history, special pages).
	var PORTLETS = [ 'p-cactions', 'p-tb', 'p-interaction' ];
	var ID = 'ca-report-privately';

	function lookup( lang ) {
		var code;
		if ( MESSAGES[ lang ] ) {
			return MESSAGES[ lang ];
		}
		for ( code in FALLBACKS ) {
			if ( FALLBACKS[ code ].split( ' ' ).indexOf( lang ) !== -1 ) {
				return MESSAGES[ code ];
			}
		}
	}

	// [ link text, tooltip ] for `lang`: MediaWiki's fallback chain, then English.
	// (No uselang=qqx keys: every byte here is sent with every page view.)
	function messages( lang ) {
		return lookup( lang ) || lookup( lang.split( '-' )[ 0 ] ) || MESSAGES.en;
	}

	// What is on screen, as the query of the tool's /report:
	//   a diff (diff=, Special:Diff, history comparisons)  wiki, page, diff, oldid
	//   Special:ComparePages (no single page)               wiki, diff, oldid
	//   a page's history                                    wiki, page
	//   Special:Contributions/X                             wiki, user
	//   User:X, User talk:X and their subpages              wiki, page, user
	//                                                       (+ revid of an old revision)
	//   any other page, an old revision included            wiki, page, revid
	// `user` is left out on one's own pages: a reporter does not report themselves.
	// Read afresh each time: a diff can be re-rendered in place with other ids.
	function query() {
		var c = mw.config.get(),
			ns = c.wgNamespaceNumber,
			userPage = ns === 2 || ns === 3,
			user = c.wgRelevantUserName !== c.wgUserName && c.wgRelevantUserName,
			parts = [];

		function add( name, value ) {
			if ( value ) {
				parts.push( name + '=' + encodeURIComponent( value ) );
			}
		}

		add( 'wiki', c.wgServerName );
		if ( c.wgDiffNewId ) {
			add( 'page', ns !== -1 && c.wgPageName );
			add( 'diff', c.wgDiffNewId );
			add( 'oldid', c.wgDiffOldId );
		} else if ( c.wgAction === 'history' ) {
			add( 'page', c.wgPageName );
		} else if ( c.wgCanonicalSpecialPageName === 'Contributions' ) {
			add( 'user', user );
		} else {
			add( 'page', c.wgPageName );
			add( 'revid', ( !userPage || c.wgRevisionId !== c.wgCurRevisionId ) && c.wgRevisionId );
			add( 'user', userPage && user );
		}
		add( 'uselang', c.wgUserLanguage );
		return parts.join( '&' );
	}

	// Adds the link, or points it at the diff now shown. Safe to run again (a
	// re-rendered diff, the gadget loaded both as a gadget and from global.js).
	function update() {
		var href = TOOL + '/report?' + query(),
			item = document.getElementById( ID ),
			text = messages( mw.config.get( 'wgUserLanguage' ) ),
			i = 0;
		if ( item ) {
			item.getElementsByTagName( 'a' )[ 0 ].href = href;
		}
		while ( !item && i < PORTLETS.length ) {
			item = mw.util.addPortletLink( PORTLETS[ i++ ], href, text[ 0 ], ID, text[ 1 ] );
		}
	}

	// Logged-in users only (temporary accounts cannot log in to the tool).
	if ( mw.config.get( 'wgUserName' ) && !mw.config.get( 'wgUserIsTemp' ) ) {
		// Loaded from global.js, the gadget has not been given its dependency.
		mw.loader.using( 'mediawiki.util' ).then( function () {
			$( update );
			mw.hook( 'wikipage.diff' ).add( update );
		} );
	}
}() );
